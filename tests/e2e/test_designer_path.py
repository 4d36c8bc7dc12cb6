"""A service-desk lead's whole path in real Chromium: a new topic typed in the designer,
its cost seen and kept low, tried in the phone pane, published, then texted from the
phone simulator by the account holder it was tried as, who gets the same card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.e2e.designer_world import demo_url, sign_in_as_admin  # noqa: F401 - a fixture
from tests.integration.conftest import TEXTER
from tests.topic_sources import printer_topic

pytestmark = pytest.mark.browser

ALICE = f"Alice Example · {TEXTER}"  # a demo account holder, with two open incidents
PRINTER = "\U0001f5a8"  # 🖨, outside GSM-7
# 81 characters: with its three options it is one GSM-7 segment, but two in UCS-2.
PROMPT = "What is wrong with the printer? Reply with the number of the line that fits best."
TOPIC = printer_topic(
    title="Toner trouble",
    keyword="toner",
    prompt=PROMPT,
    options=["Paper jam", "No toner", "Something else"],
)
# Alice's texts, in the pane and then from the simulator: the keyword, "No toner", and
# the second incident listed (newest first: the older one, about the VPN).
TEXTS = ("toner", "2", "2")
CARD = ("Number: INC0010001", "Short description: VPN disconnects every hour", "State: In Progress")


def variables_after(screen: Page, step: int) -> Locator:
    """The pane's variables after its ``step``-th text (from 1), opened."""
    shown = screen.locator("#trial-log details.vars").nth(step - 1)
    shown.locator("summary").click()
    return shown


def type_the_topic(screen: Page, url: str) -> Locator:
    """Signed in as an admin, a new topic typed over its starter draft in the YAML view;
    its choice's cost."""
    sign_in_as_admin(screen, url)
    screen.get_by_label("New topic id").fill("toner_trouble")
    screen.get_by_role("button", name="New topic").click()
    screen.wait_for_url("**/workspace/topics/toner_trouble")
    screen.click("#tab-yaml")
    source = screen.locator("#source")
    source.click()
    screen.keyboard.press("Control+A")
    screen.keyboard.press("Delete")
    source.press_sequentially(TOPIC)
    expect(screen.locator("#check-summary")).to_contain_text("No errors, 0 warnings")
    choice = screen.locator('.cost-item[data-node="0"]')
    expect(choice.locator(".encoding")).to_have_text("GSM-7")
    expect(choice.locator(".segments")).to_have_text("1 segment")
    expect(choice.locator(".sent")).to_contain_text("3. Something else")
    return choice


def an_emoji_costs_a_segment_until_removed(screen: Page, choice: Locator) -> None:
    """An emoji at the end of the prompt (the cost's "line 6" puts the cursor on it):
    warned, marked, UCS-2 and two segments; taken out again, one GSM-7 segment."""
    choice.locator(".goto-line").click()
    screen.keyboard.press("End")
    screen.keyboard.type(f" {PRINTER}")
    expect(screen.locator("#check-summary")).to_contain_text("No errors, 1 warning")
    warning = screen.locator(".finding.warn")
    expect(warning).to_contain_text("nodes[0].prompt")
    expect(warning).to_contain_text("is sent as UCS-2")
    expect(warning).to_contain_text("U+1F5A8")
    expect(screen.locator(".gutter .warn")).to_have_text("6")
    expect(choice).to_have_class(re.compile(r"\bucs2\b"))
    expect(choice.locator(".encoding")).to_have_text("UCS-2")
    expect(choice.locator(".segments")).to_have_text("2 segments")
    expect(choice.locator(".sent mark")).to_have_text(PRINTER)
    expect(choice.locator(".culprits")).to_contain_text("U+1F5A8")

    screen.keyboard.press("Backspace")  # the emoji
    screen.keyboard.press("Backspace")  # the space before it
    expect(screen.locator("#source")).to_have_value(TOPIC)
    expect(screen.locator("#check-summary")).to_contain_text("No errors, 0 warnings")
    expect(choice.locator(".segments")).to_have_text("1 segment")
    expect(choice.locator(".sent mark")).to_have_count(0)
    expect(screen.locator(".gutter .warn")).to_have_count(0)


def save(screen: Page) -> None:
    """Unsaved changes cannot be published; saved, they can."""
    expect(screen.locator("#dirty")).to_be_visible()
    expect(screen.locator("#publish")).to_be_disabled()
    screen.get_by_role("button", name="Save draft").click()
    expect(screen.locator(".bar-message")).to_have_text("Draft saved.")
    expect(screen.locator("#dirty")).to_be_hidden()
    expect(screen.locator("#publish")).to_be_enabled()


def try_it_as_alice(screen: Page) -> None:
    """The choice, the incidents to pick from, the card; the variables after each text."""
    screen.get_by_role("tab", name="Try it").click()
    # The phone field offers her by name (the browser's list of its datalist).
    expect(screen.locator('#trial-texters option[label="Alice Example"]')).to_have_attribute(
        "value", TEXTER
    )
    screen.get_by_label("Texter's phone").fill(TEXTER)
    log = screen.locator("#trial-log")
    for played, text in enumerate(TEXTS, start=1):
        screen.fill("#trial-text", text)
        screen.press("#trial-text", "Enter")
        expect(log.locator(".msg.texter")).to_have_count(played)
    expect(screen.locator("#trial-who")).to_have_text(
        f"As Alice Example, {TEXTER}, on a copy of their 2 records."
    )
    bot = log.locator(".msg.bot .bubble")
    expect(bot.filter(has_text=PROMPT)).to_contain_text("1. Paper jam\n2. No toner")
    expect(bot.filter(has_text="Which of your open incidents")).to_contain_text(
        "1. INC0010002 New monitor for desk 4B\n2. INC0010001 VPN disconnects every hour"
    )
    card = bot.filter(has_text=CARD[0])
    for line in CARD:
        expect(card).to_contain_text(line)
    expect(bot.last).to_have_text("Thanks, we noted the No toner.")

    first = variables_after(screen, 1)
    expect(first.locator("summary")).to_contain_text("waiting at toner_trouble / kind")
    expect(first).to_contain_text("none")
    second = variables_after(screen, 2)
    expect(second.locator("summary")).to_contain_text("waiting at toner_trouble / pick")
    expect(second.locator("dt")).to_have_text(["kind"])
    expect(second.locator("dd")).to_contain_text('"label": "No toner"')
    third = variables_after(screen, 3)
    expect(third.locator("summary")).to_contain_text("no topic running")
    expect(third.locator("dt")).to_have_text(["kind", "incident"])
    expect(third.locator("dd").nth(1)).to_contain_text('"value": "INC0010001"')


def publish(screen: Page, url: str) -> Page:
    """Published with a note: live, in the versions, and in the list of topics; the
    phone simulator, offered beside the notice, opened in a tab of its own."""
    screen.get_by_label("Note for this version").fill("first version, for printers")
    screen.get_by_role("button", name="Publish").click()
    expect(screen.locator(".bar-message")).to_contain_text("Published as version 1")
    expect(screen.locator("#topic-bar")).to_contain_text("live: version 1")
    with screen.expect_popup() as opened:
        screen.get_by_role("link", name="Text it from the phone simulator").click()
    screen.get_by_role("tab", name="Versions").click()
    expect(screen.locator("#versions")).to_contain_text("first version, for printers")
    screen.goto(f"{url}/workspace/topics")
    row = screen.locator("#topic-toner_trouble")
    expect(row).to_contain_text("Toner trouble")
    expect(row.locator(".chip")).to_have_text(["toner"])
    expect(row).to_contain_text("version 1")
    return opened.value


def text_it_from_the_simulator(phone: Page) -> None:
    """Alice (the simulator opens as the texter the pane played) texts what she texted
    in the pane, and gets the same card."""
    phone.wait_for_url(f"**/simulator?phone=%2B{TEXTER[1:]}")
    expect(phone.locator("#phone option:checked")).to_have_text(ALICE)
    answers = (PROMPT, "2. INC0010001 VPN disconnects every hour", CARD[0])
    for text, answer in zip(TEXTS, answers, strict=True):
        phone.fill("#body", text)
        phone.press("#body", "Enter")
        expect(phone.locator(".msg-bot .bubble", has_text=answer).last).to_be_visible()
    received = phone.locator(".msg-bot .bubble", has_text=CARD[0]).last
    for line in CARD:
        expect(received).to_contain_text(line)
    expect(phone.locator(".msg-bot .bubble", has_text="we noted the No toner")).to_be_visible()


def test_a_lead_builds_tries_publishes_and_a_texter_gets_the_card(
    demo_url: str,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    """New topic typed in the YAML view → an emoji makes its prompt UCS-2 and two segments,
    marked; removed, one again → saved → tried as Alice, variables after each text →
    published with a note → Alice texts the keyword and gets the card the pane showed."""
    page.set_viewport_size({"width": 1280, "height": 800})
    choice = type_the_topic(page, demo_url)
    an_emoji_costs_a_segment_until_removed(page, choice)
    save(page)
    try_it_as_alice(page)
    text_it_from_the_simulator(publish(page, demo_url))
