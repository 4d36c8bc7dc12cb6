"""Real Chromium for browser tests: Debian's build, driven by Playwright, no downloads.

Playwright's own browser downloads (``playwright install``) are not used: the
tests run the system Chromium, so CI needs nothing fetched at test time.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import IN_CI

CHROMIUM = Path(os.environ.get("TEXTDESK_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # root in a container: Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# An assertion waits as long as an action does (10 s) and more: a designer change is
# checked on the server, and on a CI machine with both cores busy that has taken
# longer than expect's default 5 s.  A passing check returns as soon as it holds.
expect.set_options(timeout=15_000)


def require_chromium() -> None:
    """Skip without Chromium on a laptop; fail under CI=true, where it is mandatory."""
    if CHROMIUM.exists():
        return
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if IN_CI:
        pytest.fail(f"{message} (mandatory when CI=true)")
    pytest.skip(message)


@contextlib.contextmanager
def browser_page(*, width: int = 1100, height: int = 860) -> Iterator[Page]:
    """A fresh page in a fresh headless Chromium, closed afterwards.

    Use it from synchronous tests only: Playwright's sync API runs its own loop.
    """
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.set_default_timeout(10_000)
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def page() -> Iterator[Page]:
    """A browser page for one test (import this fixture into the test module)."""
    with browser_page() as new_page:
        yield new_page
