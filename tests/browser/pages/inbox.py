from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.pages.base import Screen


class InboxScreen(Screen):
    path = "/m/inbox"

    def tab_item(self) -> Locator:
        return self.page.get_by_role("tab", name=re.compile("消息"))

    def badge(self) -> str:
        """The unread number on the tab bar ('' when there is none)."""
        text = self.tab_item().inner_text()
        found = re.search(r"\d+", text)
        return found.group(0) if found else ""

    def open(self) -> InboxScreen:
        self.tab_item().click()
        expect(self.page.get_by_role("button", name="全部已读")).to_be_visible()
        return self

    def message(self, text: str) -> Locator:
        return self.page.get_by_text(text).first

    def read_all(self) -> None:
        self.page.get_by_role("button", name="全部已读").click()
