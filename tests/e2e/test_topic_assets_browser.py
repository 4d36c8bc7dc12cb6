"""A topic's images and scripts in real Chromium: upload an image (and see a PDF posing
as one refused), use it in the draft and see it in Try it, then save two scripts and
run them on the editor's text: one passes, one fails showing what was expected."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.e2e.designer_world import demo_url, sign_in_as_admin  # noqa: F401 - a fixture
from tests.images import photo
from tests.integration.conftest import TEXTER

pytestmark = pytest.mark.browser

PASSES = """\
name: Serial, with our picture
steps:
  - say: serial
    expect: The serial number is on the sticker
    expect_media: true
"""
FAILS = """\
name: Serial, wrong expectation
steps:
  - say: serial
    expect: sticker
  - say: nope
    expect: Have a nice day
"""


def test_an_image_is_uploaded_used_tried_and_the_scripts_run_with_a_failing_step(
    demo_url: str,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_as_admin(page, demo_url)
    page.goto(f"{demo_url}/workspace/topics/serial_number")
    page.click("#tab-assets")
    pane = page.locator("#assets")
    expect(pane).to_contain_text("No images yet.")

    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
    page.set_input_files(
        "#image-file", {"name": "sticker.png", "mimeType": "image/png", "buffer": pdf}
    )
    page.click(".asset-upload button[type=submit]")
    expect(pane.locator(".bar-message.bad")).to_contain_text(
        "not a JPEG, PNG, GIF or WebP image (a PDF or another file renamed .png is refused)"
    )
    expect(pane).to_contain_text("No images yet.")
    # The draft names the image before it is there: an error, until the upload.
    source = page.locator("#source").input_value()
    page.fill("#source", source.replace("demo/serial.png", "topics/serial_number/sticker.png"))
    expect(page.locator("#check-summary")).to_contain_text("1 error")

    page.set_input_files(
        "#image-file",
        {"name": "sticker.png", "mimeType": "image/png", "buffer": photo(40, 30)},
    )
    page.click(".asset-upload button[type=submit]")
    expect(pane.locator(".bar-message.ok")).to_contain_text(
        "media: topics/serial_number/sticker.png"
    )
    expect(pane.locator(".asset-key")).to_have_value("topics/serial_number/sticker.png")
    thumbnail = pane.locator(".asset-image img")
    expect(thumbnail).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 40", arg=thumbnail.element_handle()
    )

    expect(page.locator("#check-summary")).to_contain_text("No errors")
    page.click("#tab-trial")
    page.fill("#trial-phone", TEXTER)
    page.fill("#trial-text", "serial")
    page.press("#trial-text", "Enter")
    tried = page.locator("#trial-log img.trial-image")
    expect(tried).to_have_count(1)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 40", arg=tried.element_handle()
    )

    page.click("#tab-assets")
    # What was typed in the pane survives going to another tab and back (the pane
    # is not fetched again, over a half-typed script).
    page.fill("#script-name", "half_typed")
    page.click("#tab-trial")
    page.click("#tab-assets")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#script-name")).to_have_value("half_typed")
    for name, text in (("with_picture", PASSES), ("wrong", FAILS)):
        page.fill("#script-name", name)
        page.fill("#script-text", text)
        page.click(".asset-script-form button[type=submit]")
        expect(pane.locator(".bar-message.ok")).to_have_text(f"Saved script {name}.")
    page.click("#run-scripts")
    results = page.locator("#script-run")
    expect(results.locator(".check-summary")).to_have_text("1 passed, 1 failed")
    expect(results.locator(".script-result.pass")).to_contain_text("Serial, with our picture")
    failed = results.locator(".step.fail")
    expect(failed).to_contain_text('step 2 (line 5): say "nope"')
    expect(failed.locator(".expected")).to_have_text('expected "Have a nice day"')
    expect(failed.locator(".got")).to_contain_text("Great! Reply MENU")
