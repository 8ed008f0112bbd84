from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.pages.base import Screen


class CalendarScreen(Screen):
    path = "/m/calendar"

    def expect_shown(self) -> CalendarScreen:
        expect(self.page.get_by_role("heading", name=re.compile(r"^\d{4}-\d{2}$"))).to_be_visible()
        return self

    def month(self) -> str:
        return self.page.get_by_role("heading", name=re.compile(r"^\d{4}-\d{2}$")).inner_text()

    def day(self, day: str) -> Locator:
        return self.page.get_by_role("button", name=re.compile(rf"^{day}"))

    def choose_day(self, day: str) -> None:
        self.day(day).click()

    def visit(self, customer: str) -> Locator:
        return self.page.get_by_role("link").filter(has_text=customer)

    def expect_visit_status(self, customer: str, status: str) -> None:
        expect(self.visit(customer)).to_contain_text(status)

    def next_month(self) -> None:
        self.page.get_by_role("button", name="下个月").click()

    def previous_month(self) -> None:
        self.page.get_by_role("button", name="上个月").click()

    def back_to_today(self) -> None:
        self.page.get_by_role("button", name="返回今天").click()

    def new_plan(self) -> None:
        self.page.get_by_role("link", name="新建拜访计划").or_(
            self.page.get_by_role("button", name="新建拜访计划")).first.click()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="退出登录").click()
