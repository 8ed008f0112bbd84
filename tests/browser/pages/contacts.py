from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages.base import Screen


class ContactsScreen(Screen):
    path = "/m/contacts"

    def add(self, name: str, mobile: str, title: str = "", customer: str = "") -> None:
        self.page.get_by_role("button", name="新增联系人").click()
        form = self.page.get_by_role("dialog", name="新增联系人")
        expect(form.get_by_text("手机号保存后不能修改")).to_be_visible()
        form.get_by_label("姓名").fill(name)
        form.get_by_label("手机号").fill(mobile)
        if title:
            form.get_by_label("职务").fill(title)
        if customer:
            form.get_by_label("所属客户").select_option(label=customer)
        form.get_by_role("button", name="保存联系人").click()
        confirm = self.page.get_by_role("dialog").filter(has_text="保存后将不能修改")
        expect(confirm).to_be_visible()
        confirm.get_by_role("button", name="确认").click()

    def search(self, text: str) -> None:
        self.page.get_by_placeholder("姓名或手机号").fill(text)
