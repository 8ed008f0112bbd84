"""Organisation screens: departments, employees (with the departure dialog), menu grants."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.console.pages.base import ConsoleScreen


class DepartmentsScreen(ConsoleScreen):
    path = "/console/organisation/departments"

    def expect_shown(self) -> DepartmentsScreen:
        self.expect_title("部门管理")
        return self

    def tree(self) -> Locator:
        return self.page.get_by_role("tree", name="部门树")

    def create(self, name: str, parent: str) -> None:
        self.page.get_by_role("button", name="新建部门").click()
        dialog = self.dialog("新建部门")
        dialog.get_by_label("部门名称").fill(name)
        self.choose("上级部门", parent, scope=dialog)
        with self.page.expect_response(lambda r: r.url.endswith("/api/v1/departments") and r.request.method == "POST"):
            dialog.get_by_role("button", name="保存").click()
        self.toast("已创建部门")

    def select(self, name: str) -> None:
        self.tree().get_by_role("treeitem", name=name).first.locator(".el-tree-node__content").first.click()
        expect(self.page.get_by_role("heading", name=name, level=2)).to_be_visible()

    def set_manager(self, person: str) -> None:
        self.choose("部门负责人", person)
        self.page.get_by_role("button", name="保存", exact=True).click()
        self.toast("已保存部门")

    def members(self) -> Locator:
        return self.table("成员")


class EmployeesScreen(ConsoleScreen):
    path = "/console/organisation/employees"

    def expect_shown(self) -> EmployeesScreen:
        self.expect_title("员工管理")
        return self

    def create(self, name: str, mobile: str, roles: list[str], departments: list[str], *, invite: bool) -> None:
        self.page.get_by_role("button", name="新建员工").click()
        dialog = self.dialog("新建员工")
        dialog.get_by_label("姓名").fill(name)
        dialog.get_by_label("手机号").fill(mobile)
        for role in ("员工", "销售支持", "部门管理员", "全部客户员工", "主账号"):
            box = dialog.get_by_role("checkbox", name=role, exact=True)
            if box.count() and box.is_checked() != (role in roles):
                dialog.get_by_text(role, exact=True).click()
        self.choose("所属部门", *departments, scope=dialog)
        self.choose("主部门", departments[0], scope=dialog)
        invite_box = dialog.get_by_role("checkbox", name="创建后立即邀请加入组织")
        if invite_box.is_checked() != invite:
            dialog.get_by_text("创建后立即邀请加入组织").click()
        with self.page.expect_response(lambda r: r.url.endswith("/api/v1/employees") and r.request.method == "POST"):
            dialog.get_by_role("button", name="保存").click()

    def search(self, text: str) -> None:  # type: ignore[override]
        self.page.get_by_label("姓名或手机号").fill(text)
        self.page.get_by_role("button", name="查询", exact=True).click()

    def employee(self, name: str) -> Locator:
        return self.row(name, self.table("员工管理"))

    def expect_status(self, name: str, status: str) -> None:
        expect(self.employee(name)).to_contain_text(status)

    def invitation_link(self) -> str:
        link = self.page.get_by_role("link", name=re.compile("m.join"))
        expect(link).to_be_visible()
        return link.get_attribute("href") or ""

    def open_departure(self, name: str) -> Locator:
        self.employee(name).get_by_role("button", name="删除（离职）").click()
        dialog = self.dialog("员工离职交接")
        expect(dialog).to_be_visible()
        return dialog


class MenuPermissionsScreen(ConsoleScreen):
    path = "/console/organisation/menu-permissions"

    def expect_shown(self) -> MenuPermissionsScreen:
        self.expect_title("菜单授权")
        return self

    def grant(self, department: str) -> None:
        node = self.page.get_by_role("tree", name="客户拜访（拜访记录）").get_by_role("treeitem", name=department).first
        node.locator(".el-checkbox").first.click()
        self.page.get_by_role("button", name="保存").click()
        self.toast("已保存菜单授权")
