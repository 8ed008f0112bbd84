from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.browser.pages.base import Screen


class CustomersScreen(Screen):
    path = "/m/customers"

    def expect_shown(self) -> CustomersScreen:
        expect(self.page.get_by_text("我的客户")).to_be_visible()
        return self

    def search(self, text: str) -> None:
        self.page.get_by_role("searchbox", name="搜索客户名称").or_(
            self.page.get_by_placeholder("搜索客户名称")).first.fill(text)

    def customer(self, name: str) -> Locator:
        return self.page.get_by_role("link").filter(has_text=name)

    def enter_new(self) -> None:
        self.page.get_by_role("button", name="录入客户").or_(
            self.page.get_by_role("link", name="录入客户")).first.click()


class CustomerEntryScreen(Screen):
    path = "/m/customers/new"

    def fill(self, name: str = "", address: str = "", landlines: str = "", mobiles: str = "") -> None:
        if name:
            self.page.get_by_label("公司名称").fill(name)
        if address:
            self.page.get_by_label("经营地址").fill(address)
        if landlines:
            self.page.get_by_label("座机").fill(landlines)
        if mobiles:
            self.page.get_by_label("手机").fill(mobiles)

    def clear(self) -> None:
        for label in ("公司名称", "座机", "手机"):
            self.page.get_by_label(label).fill("")

    def expect_duplicate_held_by(self, *texts: str) -> None:
        found = self.page.get_by_role("region", name="查重结果")
        expect(found.get_by_role("alert")).to_contain_text("撞单")
        for text in texts:
            expect(found).to_contain_text(text)

    def expect_clean(self) -> None:
        expect(self.page.get_by_text("查重通过：未发现重复客户")).to_be_visible()

    def submit_button(self) -> Locator:
        return self.page.get_by_role("button", name="提交录入")


class CustomerDetailScreen(Screen):
    def expect_shown(self, name: str) -> CustomerDetailScreen:
        expect(self.page.get_by_text(name).first).to_be_visible()
        return self

    def open_tab(self, name: str) -> None:
        self.page.get_by_role("main").get_by_role("tab", name=name, exact=True).click()

    def log_contact(self, kind: str, text: str) -> None:
        self.open_tab("联系小计")
        self.page.get_by_role("radio", name=kind).click()
        self.page.get_by_label("内容").fill(text)
        self.page.get_by_role("button", name="记录联系").click()

    def release(self, reason: str) -> None:
        self.page.get_by_role("button", name="放弃到公海").click()
        dialog = self.page.get_by_role("dialog")
        dialog.get_by_label("放弃原因").fill(reason)
        dialog.get_by_role("button", name="确认").click()
