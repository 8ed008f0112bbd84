"""Customer screens: the list (with the entry/edit dialog, the detail drawer, transfer and
department dialogs), 人员客户表, deleted customers, exports."""
from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.browser.console.pages.base import ConsoleScreen


class CustomersScreen(ConsoleScreen):
    path = "/console/customers/list"

    def expect_shown(self) -> CustomersScreen:
        self.expect_title("客户列表")
        return self

    def list(self) -> Locator:
        return self.table("客户列表")

    def customer(self, name: str) -> Locator:
        return self.row(name, self.list())

    def filter_keyword(self, text: str) -> None:
        self.page.get_by_label("关键词").fill(text)
        self.search()

    # -- entry and edit ----------------------------------------------------------------------
    def open_entry(self) -> Locator:
        self.page.get_by_role("button", name="录入客户").click()
        dialog = self.dialog("录入客户")
        expect(dialog).to_be_visible()
        return dialog

    def fill(self, dialog: Locator, name: str = "", address: str = "", landlines: str = "", mobiles: str = "") -> None:
        if name:
            dialog.get_by_label("公司名称").fill(name)
        if address:
            dialog.get_by_label("经营地址").fill(address)
        if landlines:
            dialog.get_by_label("座机").fill(landlines)
        if mobiles:
            dialog.get_by_label("手机").fill(mobiles)

    def check_result(self, dialog: Locator) -> Locator:
        return dialog.get_by_role("region", name="查重结果")

    def expect_duplicate_held_by(self, dialog: Locator, *texts: str) -> None:
        found = self.check_result(dialog)
        expect(found.get_by_role("alert")).to_contain_text("撞单")
        for text in texts:
            expect(found).to_contain_text(text)

    def expect_clean(self, dialog: Locator) -> None:
        expect(self.check_result(dialog)).to_contain_text("查重通过")

    def submit_button(self, dialog: Locator, name: str = "提交录入") -> Locator:
        return dialog.get_by_role("button", name=name)

    # -- the drawer ----------------------------------------------------------------------------
    def open_detail(self, name: str) -> Locator:
        self.customer(name).get_by_role("button", name="详情").click()
        drawer = self.page.get_by_role("dialog", name=name)
        expect(drawer).to_be_visible()
        return drawer

    def drawer_tab(self, drawer: Locator, tab: str) -> None:
        drawer.get_by_role("tab", name=tab).click()

    def open_edit(self, name: str) -> Locator:
        self.customer(name).get_by_role("button", name="编辑").click()
        dialog = self.dialog("编辑客户")
        expect(dialog).to_be_visible()
        return dialog

    def transfer(self, name: str, to: str, reason: str = "客户区域调整") -> None:
        self.customer(name).get_by_role("button", name="转移").click()
        dialog = self.dialog("转移客户")
        self.choose("转移给", to, scope=dialog)
        dialog.get_by_label("转移原因").fill(reason)
        dialog.get_by_role("button", name="确认").click()
        self.toast("客户已转移")

    def delete(self, name: str, reason: str) -> None:
        self.customer(name).get_by_role("button", name="删除").click()
        self.page.get_by_role("dialog").get_by_role("button", name="确认").click()
        prompt = self.page.get_by_role("dialog").filter(has_text="删除原因")
        prompt.get_by_role("textbox").fill(reason)
        prompt.get_by_role("button", name="确认").click()
        self.toast("客户已删除")

    def select_rows(self, *names: str) -> None:
        for name in names:
            self.customer(name).locator(".el-checkbox").first.click()

    def assign_departments(self, *departments: str) -> None:
        self.page.get_by_role("button", name="分配到部门").click()
        dialog = self.dialog("分配到部门")
        self.choose("部门", *departments, scope=dialog)
        dialog.get_by_role("button", name="确认").click()


class EmployeeCustomersScreen(ConsoleScreen):
    path = "/console/customers/employees"

    def expect_shown(self) -> EmployeeCustomersScreen:
        self.expect_title("人员客户表")
        return self

    def choose_person(self, name: str) -> None:
        people = self.table("人员")
        self.row(name, people).get_by_text(name, exact=True).click()
        expect(self.page.get_by_role("heading", name=f"「{name}」负责的客户")).to_be_visible()

    def theirs(self, name: str) -> Locator:
        return self.table(f"「{name}」负责的客户")

    def bind(self, person: str, customer: str) -> None:
        self.page.get_by_role("button", name="绑定已有客户").click()
        dialog = self.dialog(f"绑定客户给「{person}」")
        dialog.get_by_label("搜索要绑定的客户").fill(customer)
        dialog.get_by_role("button", name="查询").click()
        self.row(customer, dialog).locator(".el-checkbox").first.click()
        dialog.get_by_role("button", name="确认").click()
        self.toast("已绑定")

    def unbind(self, person: str, customer: str) -> None:
        self.row(customer, self.theirs(person)).locator(".el-checkbox").first.click()
        self.page.get_by_role("button", name="解除客户绑定").click()
        self.page.get_by_role("dialog").get_by_role("button", name="确认").click()
        self.toast("已解除绑定")

    def share_with(self, *people: str) -> None:
        self.page.get_by_role("button", name="分配客户（共享）").click()
        dialog = self.dialog("分配客户（共享）")
        self.choose("共享给（可多选）", *people, scope=dialog)
        dialog.get_by_role("button", name="确认").click()
        self.toast("已共享")


class DeletedCustomersScreen(ConsoleScreen):
    path = "/console/customers/deleted"

    def expect_shown(self) -> DeletedCustomersScreen:
        self.expect_title("已删除客户")
        return self

    def restore(self, name: str) -> None:
        self.row(name, self.table("已删除客户")).get_by_role("button", name="恢复").click()
        dialog = self.page.get_by_role("dialog", name=f"恢复客户「{name}」")
        dialog.get_by_label("恢复原因").fill("误删")
        dialog.get_by_role("button", name="恢复").click()
        self.toast("客户已恢复")


class ExportsScreen(ConsoleScreen):
    path = "/console/customers/exports"

    def expect_shown(self) -> ExportsScreen:
        self.expect_title("数据导出")
        return self
