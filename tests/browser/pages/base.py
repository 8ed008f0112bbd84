from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SHOTS = Path(__file__).resolve().parents[1] / "screenshots"


class Screen:
    path = "/m/"

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> Screen:
        self.page.goto(self.path)
        return self

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        target = SHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        self.page.wait_for_load_state("networkidle")
        toast = self.page.locator(".van-toast")  # a passing toast would hide the screen under it
        if toast.count() and toast.first.is_visible():
            toast.first.wait_for(state="hidden")
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def alert(self) -> Locator:
        return self.page.get_by_role("alert")

    def toast(self, text: str) -> None:
        expect(self.page.get_by_text(text)).to_be_visible()

    def go_tab(self, name: str) -> None:
        """A tab of the tab bar (in-app navigation keeps a plain login's session)."""
        self.page.get_by_role("tab", name=re.compile(name)).click()

    def no_horizontal_scroll(self) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.page.viewport_size["width"], f"the page scrolls sideways: {width}px"
