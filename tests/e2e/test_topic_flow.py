"""The designer's flow view in real Chromium: add a node, connect it by dragging an
arrow, fill its form from the keyboard, see the YAML follow and an error pinned to
its box and field, all at 1280×800 without the page scrolling sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.e2e.test_topic_designer import demo_url, sign_in_as_admin  # noqa: F401

pytestmark = pytest.mark.browser


def _settled(page: Page) -> None:  # noqa: F811
    """The node's form drawn again after a change (it is fetched afresh)."""
    expect(page.locator("#node-form-body")).to_have_attribute("aria-busy", "false")


def _fits(page: Page, selector: str) -> None:  # noqa: F811
    expect(page.locator(selector)).to_be_visible()
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= 1280, (selector, box)
    assert box["y"] >= 0, (selector, box)
    assert box["y"] + box["height"] <= 800, (selector, box)


def _with_a_choice(page: Page, url: str) -> None:  # noqa: F811
    """A new topic, in the flow view, with a dynamic choice added after its message."""
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_as_admin(page, url)
    page.fill("#new-topic-id", "flowdemo")
    page.click(".new-topic button[type=submit]")
    page.wait_for_url("**/workspace/topics/flowdemo")
    page.click("#tab-flow")
    expect(page.locator(".drawflow-node")).to_have_count(1)
    page.select_option("#flow-type", "dynamic_choice")
    page.click("#flow-add")
    expect(page.locator(".drawflow-node")).to_have_count(2)
    _settled(page)


def test_a_node_added_connected_and_filled_in_the_flow_view_changes_the_yaml(
    demo_url: str,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_as_admin(page, demo_url)
    page.fill("#new-topic-id", "flowdemo")
    page.click(".new-topic button[type=submit]")
    page.wait_for_url("**/workspace/topics/flowdemo")

    page.click("#tab-flow")
    nodes = page.locator(".drawflow-node")
    expect(nodes).to_have_count(1)
    expect(nodes.first).to_contain_text("message")
    expect(nodes.first).to_contain_text("Hello! This topic has just been made.")
    expect(nodes.first).to_contain_text("GSM-7 · 1 segment")

    # Add: a dynamic choice, after the message; its form opens on its first field.
    page.select_option("#flow-type", "dynamic_choice")
    page.click("#flow-add")
    expect(nodes).to_have_count(2)
    expect(page.locator(".node-form h2")).to_contain_text("Node 2")
    expect(page.locator("#nf-id")).to_be_focused()
    _settled(page)
    assert "type: dynamic_choice" in page.input_value("#source")

    # Connect: drag from its "nothing to choose" port (not set yet) to the first box.
    page.drag_and_drop("#node-2 .output.unset", "#node-1 .input")
    expect(page.locator("#flow-status")).to_contain_text("now named 'message'")
    yaml = page.input_value("#source")
    assert "empty_goto: message" in yaml
    assert "- id: message\n    type: message" in yaml
    expect(page.locator(".connection .main-path")).to_have_count(2)

    # The form, from the keyboard: Tab goes from field to field, Ctrl+Enter saves.
    _settled(page)
    expect(page.locator("#nf-empty_goto")).to_have_value("message")
    page.focus("#nf-id")
    page.keyboard.press("Tab")
    expect(page.locator("#nf-when")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # type is shown, not edited
    expect(page.locator("#nf-prompt")).to_be_focused()
    page.keyboard.type("Which incident is it?")
    page.keyboard.press("Control+Enter")
    expect(nodes.nth(1)).to_contain_text("Which incident is it?")
    yaml = page.input_value("#source")
    assert 'prompt: "Which incident is it?"' in yaml  # the starter's "" keeps its quotes
    assert "empty_goto: message" in yaml
    expect(page.locator("#dirty")).to_be_visible()

    # An error: a variable that is no name is an error on the box and beside the field.
    _settled(page)
    page.fill("#nf-var", "not a name")
    page.press("#nf-var", "Enter")
    # The change is made and checked on the server: on a busy machine that takes a while.
    expect(page.locator("#source")).to_have_value(re.compile("var: not a name"), timeout=15_000)
    expect(page.locator(".drawflow-node.has-error")).to_have_count(1)
    expect(nodes.nth(1).locator(".fnode-findings .error")).to_contain_text("var")
    expect(page.locator("#nf-var-err")).to_be_visible()


def test_the_flow_view_fits_1280_by_800_and_follows_the_yaml_both_ways(
    demo_url: str,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    _with_a_choice(page, demo_url)
    nodes = page.locator(".drawflow-node")
    page.fill("#nf-var", "not a name")
    page.press("#nf-var", "Enter")
    # The change is made and checked on the server: on a busy machine that takes a while.
    expect(page.locator("#source")).to_have_value(re.compile("var: not a name"), timeout=15_000)
    expect(page.locator(".drawflow-node.has-error")).to_have_count(1)
    _settled(page)
    # The page fits 1280×800: nothing scrolls sideways; flow, form and side are in view.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    for part in ("#flow-canvas", "#node-form", "#node-save", ".designer-side", "#save"):
        _fits(page, part)

    # The YAML view, typed into: the flow follows, and an unreadable text keeps it.
    page.click("#tab-yaml")
    _fits(page, "#source")
    fixed = page.input_value("#source").replace("var: not a name", "var: incident")
    page.fill("#source", fixed)
    page.click("#tab-flow")
    expect(page.locator(".drawflow-node.has-error")).to_have_count(0)
    page.click("#tab-yaml")
    page.fill("#source", fixed + "  - [unclosed\n")
    page.click("#tab-flow")
    expect(page.locator("#flow-status")).to_contain_text("does not read")
    expect(nodes).to_have_count(2)

    # Reorder with a box's button; Save draft keeps what the flow view made.
    page.click("#tab-yaml")
    page.fill("#source", fixed)
    page.click("#tab-flow")
    expect(page.locator("#flow-status")).not_to_contain_text("does not read")
    page.click("#node-2 .fnode-up")
    expect(nodes.first).to_contain_text("dynamic_choice")
    # ... or by dragging it: the message dropped above the choice goes first again.
    page.drag_and_drop("#node-2 .fnode-type", "#node-1", target_position={"x": 60, "y": 4})
    expect(nodes.first).to_contain_text("Hello! This topic has just been made.")
    yaml = page.input_value("#source")
    assert yaml.index("type: message") < yaml.index("type: dynamic_choice")
    page.click("#save")
    expect(page.locator(".bar-message")).to_have_text("Draft saved.")
