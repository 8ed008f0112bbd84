"""Settings and contact screens: 标签管理 (tag groups), 自定义字段, 联系人列表."""
from __future__ import annotations

from playwright.sync_api import Locator

from tests.browser.console.pages.base import ConsoleScreen


class TagsScreen(ConsoleScreen):
    path = "/console/settings/tags"

    def expect_shown(self) -> TagsScreen:
        self.expect_title("标签管理")
        return self

    def group(self, name: str) -> Locator:
        return self.row(name, self.table("标签管理"))

    def add_group(self, name: str, colour: str, *tags: str) -> None:
        self.page.get_by_role("button", name="新建标签组").click()
        dialog = self.dialog("新建标签组")
        dialog.get_by_label("组名").fill(name)
        self.pick("颜色", colour, scope=dialog)
        for i, tag in enumerate(tags):
            if i:
                dialog.get_by_role("button", name="添加标签").click()
            dialog.get_by_label(f"标签名 {i + 1}").fill(tag)
        dialog.get_by_role("button", name="保存").click()
        self.toast("标签组已保存")


class CustomFieldsScreen(ConsoleScreen):
    path = "/console/settings/custom-fields"

    def expect_shown(self) -> CustomFieldsScreen:
        self.expect_title("自定义字段")
        return self

    def field(self, text: str) -> Locator:
        return self.row(text, self.table("自定义字段"))

    def add_select(self, key: str, label: str, options: str) -> Locator:
        self.page.get_by_role("button", name="新建字段").click()
        dialog = self.dialog("新建字段")
        dialog.get_by_label("字段键").fill(key)
        dialog.get_by_label("名称", exact=True).fill(label)
        self.choose("类型", "单选", scope=dialog)
        dialog.get_by_label("选项").fill(options)
        return dialog


class ContactsScreen(ConsoleScreen):
    path = "/console/contacts/list"

    def expect_shown(self) -> ContactsScreen:
        self.expect_title("联系人列表")
        return self

    def list(self) -> Locator:
        return self.table("联系人列表")

    def contact(self, text: str) -> Locator:
        return self.row(text, self.list())

    def tier(self) -> Locator:
        return self.page.locator(".el-descriptions").filter(has_text="联系人额度")

    def add(self, name: str, mobile: str, tags: dict[str, str]) -> Locator:
        self.page.get_by_role("button", name="新增联系人").click()
        dialog = self.dialog("新增联系人")
        dialog.get_by_label("姓名", exact=True).fill(name)
        dialog.get_by_label("手机号", exact=True).fill(mobile)
        for group, tag in tags.items():
            self.pick(group, tag, scope=dialog)
        return dialog

    def scope(self, name: str) -> None:
        self.pick("范围", name)
        self.search()

    def reassign(self, text: str, to: str) -> None:
        self.contact(text).get_by_role("button", name="重新分配").click()
        dialog = self.dialog(f"重新分配联系人「{text}」")
        self.choose("新负责人", to, scope=dialog)
        dialog.get_by_role("button", name="确认").click()
        self.toast("已重新分配")
