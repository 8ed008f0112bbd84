"""Pool screens: the public pool with direct assignment, the claim-request queue, the rules with
their preview, reclaims and warnings, targets vs actual."""
from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.browser.console.pages.base import ConsoleScreen


class PoolCustomersScreen(ConsoleScreen):
    path = "/console/pool/customers"

    def expect_shown(self) -> PoolCustomersScreen:
        self.expect_title("公海客户")
        return self

    def assign(self, customer: str, to: str) -> None:
        self.page.get_by_label("名称或行业").fill(customer)
        self.search()
        self.row(customer, self.table("公海客户")).get_by_role("button", name="直接分配").click()
        dialog = self.dialog(f"直接分配「{customer}」")
        self.choose("分配给", to, scope=dialog)
        dialog.get_by_role("button", name="确认").click()
        self.toast(f"已分配给 {to}")


class ClaimRequestsScreen(ConsoleScreen):
    path = "/console/pool/claim-requests"

    def expect_shown(self) -> ClaimRequestsScreen:
        self.expect_title("挑入申请")
        return self

    def request(self, name: str) -> Locator:
        return self.row(name, self.table("挑入申请"))

    def open(self, name: str) -> Locator:  # type: ignore[override]
        self.request(name).get_by_role("button", name="审核").click()
        drawer = self.page.get_by_role("dialog", name="审核挑入申请")
        expect(drawer).to_be_visible()
        return drawer

    def approve(self, drawer: Locator) -> None:
        drawer.get_by_role("button", name="通过").click()
        self.toast("已通过：申请人须在")


class PoolRulesScreen(ConsoleScreen):
    path = "/console/pool/rules"

    def expect_shown(self) -> PoolRulesScreen:
        self.expect_title("公海规则")
        expect(self.page.get_by_label("私海容量")).not_to_have_value("")
        return self

    def set_days(self, rule: str, days: int) -> None:
        box = self.page.get_by_label(f"{rule} 天")
        box.fill(str(days))
        box.blur()

    def preview(self) -> Locator:
        self.page.get_by_role("button", name="预览影响").click()
        dialog = self.dialog("保存前预览")
        expect(dialog).to_be_visible()
        return dialog

    def save(self, dialog: Locator) -> None:
        dialog.get_by_role("button", name="确认保存").click()
        self.toast("公海规则已保存")


class ReclaimsScreen(ConsoleScreen):
    path = "/console/pool/reclaims"

    def expect_shown(self) -> ReclaimsScreen:
        self.expect_title("回收预警")
        return self


class TargetsScreen(ConsoleScreen):
    path = "/console/pool/targets"

    def expect_shown(self) -> TargetsScreen:
        self.expect_title("目标与实际")
        return self
