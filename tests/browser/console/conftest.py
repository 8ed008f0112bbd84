"""Console browser tests: desktop browser contexts (1440×900, zh-CN, Shanghai time) against
the real stack; page objects in ./pages save a screenshot of every screen under
tests/browser/screenshots/ (names start with `console-`)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from tests.browser.conftest import context_factory

DESK = {"width": 1440, "height": 900}


@pytest.fixture
def desks(request, browser: Browser, playwright: Playwright, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """A factory of desktop browsers (contexts) at 1440×900."""
    def desk(locale: str = "zh-CN") -> dict:
        return {"viewport": DESK, "locale": locale, "timezone_id": "Asia/Shanghai", "accept_downloads": True}

    yield from context_factory(request, browser, playwright, base_url, desk)


@pytest.fixture
def desk(desks) -> Page:
    """One desktop browser with one page."""
    return desks().new_page()


def log_refusals(page: Page) -> None:
    """Print every answer >= 400 of ``page``, page errors and console errors (shown when a test fails)."""
    def seen(response) -> None:
        if response.status >= 400:
            print(f"[{response.status}] {response.request.method} {response.url}")
    page.on("response", seen)
    page.on("pageerror", lambda e: print(f"[pageerror] {e}"))
    page.on("console", lambda m: print(f"[console.{m.type}] {m.text}") if m.type in ("error", "warning") else None)
