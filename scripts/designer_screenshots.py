"""Screenshots of the topic designer for docs/designer.md (``make designer-screenshots``).

Runs what ``make run`` runs (migrate, demo seed, serve) in a scratch folder on a free
loopback port, drives Debian's Chromium through each part of the designer at 1280×800,
and writes the PNGs under docs/images/.  Nothing is sent anywhere: a demo install
carries its texts through the built-in sandbox.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
TEXTDESK = str(Path(sys.executable).with_name("textdesk"))
CHROMIUM = os.environ.get("TEXTDESK_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ALICE = "+15551230001"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def demo_server() -> Iterator[str]:
    """A demo desk, as `make run` leaves it, in a scratch folder; its URL."""
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
        env.update(
            TEXTDESK_DATABASE_URL=f"sqlite+aiosqlite:///{folder}/textdesk.db",
            TEXTDESK_PUBLIC_URL=f"http://127.0.0.1:{port}",
            TEXTDESK_LOG_LEVEL="WARNING",
        )
        for step in (["migrate"], ["demo", "seed"]):
            subprocess.run([TEXTDESK, *step], env=env, cwd=folder, check=True, capture_output=True)
        server = subprocess.Popen([TEXTDESK, "serve", "--port", str(port)], env=env, cwd=folder)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


def _smaller(path: Path) -> None:
    """The PNG in 256 colours (Pillow, already a dependency): a screenshot of a page
    needs no more, and the repository stays small."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(300)  # htmx settles; the debounced check has answered
    path = IMAGES / f"designer-{name}.png"
    page.screenshot(path=str(path))
    _smaller(path)
    print(f"docs/images/designer-{name}.png")


def sign_in(page: Page, url: str) -> None:
    """Sam, the demo's admin, on the topic list."""
    page.goto(f"{url}/workspace/login?next=/workspace/topics")
    page.fill("input[name=email]", "sam@example.com")
    page.fill("input[name=password]", "textdesk-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/workspace/topics")


def tour(page: Page, url: str) -> None:
    """Each part of the designer, on the demo's topics."""
    sign_in(page, url)
    shoot(page, "list")

    page.goto(f"{url}/workspace/topics/my_incidents")
    page.click("#tab-flow")
    page.wait_for_selector(".drawflow-node")
    shoot(page, "flow")
    page.locator("#node-4 .fnode-edit").click()
    page.wait_for_selector("#node-form form")
    shoot(page, "node-form")
    # An error pinned to its node and field: the question's variable emptied.
    page.fill("#nf-var", "")
    page.press("#nf-var", "Enter")
    page.wait_for_selector("#nf-var-err")
    page.locator("#node-4").scroll_into_view_if_needed()
    shoot(page, "flow-error")
    page.reload()  # drop the broken edit: nothing was saved
    page.click("#tab-yaml")
    source = page.input_value("#source")
    page.fill("#source", source.replace("Which incident?", "Which incident? \U0001f914"))
    page.wait_for_selector(".cost-item.ucs2")
    page.locator(".cost-item.ucs2").first.scroll_into_view_if_needed()
    shoot(page, "yaml-check")

    page.fill("#source", source.replace("Which incident?", "Which of your incidents?"))
    page.click("#tab-trial")
    page.fill("#trial-phone", ALICE)
    for text in ("my incidents", "2", "no"):
        count = page.locator("#trial-log .msg.texter").count()
        page.fill("#trial-text", text)
        page.press("#trial-text", "Enter")
        page.wait_for_function(
            f"document.querySelectorAll('#trial-log .msg.texter').length > {count}"
        )
    page.locator("#trial-log details.vars").nth(1).evaluate("d => d.open = true")
    shoot(page, "try-it")

    page.click("#tab-diff")
    page.wait_for_selector("#diff .diff")
    shoot(page, "changes")

    page.click("#save")
    page.wait_for_selector(".bar-message")
    page.fill("#publish-note", "Friendlier question")
    page.click("#publish")
    page.wait_for_selector(".bar-message:has-text('Published')")
    page.click("#tab-versions")
    page.wait_for_selector("#versions .version")
    shoot(page, "versions")

    # Two editors at once: someone else saves while this page has changes of its own.
    other = page.context.browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(other, url)
    other.goto(f"{url}/workspace/topics/my_incidents")
    theirs = other.input_value("#source").replace("Which of your incidents?", "Which one?")
    other.fill("#source", theirs)
    other.click("#save")
    other.wait_for_selector(".bar-message:has-text('Draft saved')")
    other.close()
    page.click("#tab-yaml")
    mine = page.input_value("#source").replace("Add a comment to", "Comment on")
    page.fill("#source", mine)
    page.click("#save")
    page.wait_for_selector(".conflict")
    shoot(page, "conflict")


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with demo_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(10_000)
            tour(page, url)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
