"""The screens every console user meets: home, a placeholder, the refusal page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.console.pages.base import ConsoleScreen


class HomeScreen(ConsoleScreen):
    path = "/console/"

    def expect_shown(self, name: str) -> HomeScreen:
        expect(self.heading(re.compile(f"(您好|Hello)，?,? ?{re.escape(name)}"))).to_be_visible()
        return self


class ComingSoonScreen(ConsoleScreen):
    def expect_shown(self, title: str) -> ComingSoonScreen:
        expect(self.heading(title, ).first).to_be_visible()
        expect(self.page.get_by_text(re.compile("即将上线|Coming soon")).first).to_be_visible()
        return self


class DeniedScreen(ConsoleScreen):
    def expect_shown(self) -> DeniedScreen:
        expect(self.heading(re.compile("无权访问|Not allowed")).first).to_be_visible()
        return self
