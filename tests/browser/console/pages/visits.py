"""Console II's visit screens: the records page with its detail drawer, the review queue
(criteria, trust, photo, approve/reject) and the inbox."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.console.pages.base import ConsoleScreen


class RecordsScreen(ConsoleScreen):
    path = "/console/visits/records"

    def expect_shown(self) -> RecordsScreen:
        expect(self.heading("拜访记录")).to_be_visible()
        return self

    def table(self) -> Locator:
        return self.page.locator(".el-table").filter(has=self.page.locator(".el-table__body"))

    def row(self, customer: str) -> Locator:
        return self.page.locator(".el-table__body tr").filter(has_text=customer)

    def expect_row(self, customer: str) -> None:
        expect(self.row(customer).first).to_be_visible()

    def expect_no_row(self, customer: str) -> None:
        expect(self.page.get_by_text("没有符合条件的拜访记录")).to_be_visible()
        expect(self.row(customer)).to_have_count(0)

    def open_detail(self, customer: str) -> Locator:
        self.page.get_by_role("button", name=f"查看「{customer}」的拜访详情").first.click()
        drawer = self.page.get_by_role("dialog").filter(has_text="拜访详情")
        expect(drawer).to_be_visible()
        return drawer


class ReviewScreen(ConsoleScreen):
    path = "/console/visits/review"

    def expect_shown(self) -> ReviewScreen:
        expect(self.heading("有效性审核")).to_be_visible()
        return self

    def row(self, customer: str) -> Locator:
        return self.page.locator(".el-table__body tr").filter(has_text=customer).first

    def decide(self, customer: str, decision: str, reason: str) -> None:
        label = "通过" if decision == "approve" else "驳回"
        self.page.get_by_role("button", name=f"{label}「{customer}」的拜访").first.click()
        box = self.page.locator(".el-message-box")
        expect(box).to_be_visible()
        box.locator("input").fill(reason)
        box.get_by_role("button", name=re.compile("确定|确认")).click()

    def refusal(self) -> Locator:
        return self.page.locator(".el-alert").filter(has_text="不能审核为有效")


class InboxScreen(ConsoleScreen):
    path = "/console/notifications/inbox"

    def expect_note(self, text: str | re.Pattern[str]) -> Locator:
        note = self.page.locator(".c-inbox li").filter(has_text=text).first
        expect(note).to_be_visible()
        return note
