"""The topic designer in real Chromium: build a topic, see its cost, try it, publish it,
then text its keyword from the phone simulator and get the card."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.e2e.designer_world import demo_url, sign_in_as_admin  # noqa: F401 - a fixture
from tests.integration.conftest import TEXTER
from tests.topic_sources import printer_topic

pytestmark = pytest.mark.browser

TOPIC = printer_topic(
    title="Paper jam",
    keyword="jammed",
    prompt="What is wrong with the printer?",
    options=["Paper jam", "No toner"],
    pick="Which of your incidents is it about?",
)


def test_a_topic_built_in_the_designer_reaches_the_texter(
    demo_url: str,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    """New topic → YAML with a choice, a dynamic choice and a card → UCS-2 warning on an
    emoji → try it as Alice → publish → Alice texts the keyword and gets the card."""
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_as_admin(page, demo_url)
    expect(page.locator(".topic-table")).to_contain_text("Report an issue")
    page.fill("#new-topic-id", "paper_jam")
    page.click(".new-topic button[type=submit]")
    page.wait_for_url("**/workspace/topics/paper_jam")

    page.fill("#source", TOPIC)
    expect(page.locator("#check-summary")).to_contain_text("No errors, 0 warnings")
    expect(page.locator(".cost-item")).to_have_count(4)
    page.fill("#source", TOPIC.replace("the printer?", "the printer? \U0001f5a8"))
    expect(page.locator("#check-summary")).to_contain_text("1 warning")
    expect(page.locator(".finding.warn")).to_contain_text("is sent as UCS-2")
    expect(page.locator(".cost-item.ucs2 mark")).to_have_text("\U0001f5a8")
    expect(page.locator(".gutter .warn")).to_have_text("6")  # the prompt's line
    page.fill("#source", TOPIC)
    expect(page.locator("#check-summary")).to_contain_text("No errors, 0 warnings")

    expect(page.locator("#dirty")).to_be_visible()
    expect(page.locator("#publish")).to_be_disabled()
    page.keyboard.press("Control+s")
    expect(page.locator(".bar-message")).to_have_text("Draft saved.")
    expect(page.locator("#dirty")).to_be_hidden()

    page.click("#tab-trial")
    page.fill("#trial-phone", TEXTER)
    for played, text in enumerate(("jammed", "1", "1"), start=1):
        page.fill("#trial-text", text)
        page.press("#trial-text", "Enter")
        expect(page.locator("#trial-log .msg.texter")).to_have_count(played)
    log = page.locator("#trial-log")
    expect(log).to_contain_text("Which of your incidents is it about?")
    expect(log).to_contain_text("VPN disconnects every hour")
    expect(log).to_contain_text("Thanks, we noted the Paper jam.")
    expect(log.locator(".vars").last).to_contain_text("incident")

    page.fill("#publish-note", "first version")
    page.click("#publish")
    expect(page.locator(".bar-message")).to_contain_text("Published as version 1")
    page.click("#tab-versions")
    expect(page.locator("#versions")).to_contain_text("first version")

    page.goto(f"{demo_url}/simulator?phone=%2B{TEXTER[1:]}")
    for text, answer in (
        ("jammed", "What is wrong with the printer?"),
        ("2", "Which of your incidents is it about?"),
        ("2", "Short description: VPN disconnects every hour"),
    ):
        page.fill("#body", text)
        page.press("#body", "Enter")
        expect(page.locator(".msg-bot .bubble", has_text=answer).last).to_be_visible()
    expect(page.locator(".msg-bot .bubble", has_text="State: In Progress")).to_be_visible()
    expect(page.locator(".msg-bot .bubble", has_text="we noted the No toner")).to_be_visible()
