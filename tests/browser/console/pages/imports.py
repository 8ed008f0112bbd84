"""The import wizard (客户导入 / 联系人导入): template, file, check, import."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, expect

from tests.browser.console.pages.base import ConsoleScreen


class ImportScreen(ConsoleScreen):
    def __init__(self, page, title: str = "客户导入") -> None:
        super().__init__(page)
        self.title = title
        self.path = "/console/customers/import" if title == "客户导入" else "/console/contacts/import"

    def expect_shown(self) -> ImportScreen:
        self.expect_title(self.title)
        return self

    def download_template(self) -> Path:
        with self.page.expect_download() as got:
            self.page.get_by_role("button", name="下载模板").click()
        return Path(got.value.path())

    def choose_file(self, path: Path) -> None:
        self.page.get_by_label("选择文件").set_input_files(str(path))
        expect(self.page.get_by_text(f"已选择：{path.name}")).to_be_visible()

    def check(self) -> None:
        self.page.get_by_role("button", name="检测", exact=True).click()

    def problems(self) -> Locator:
        return self.page.locator('.el-table[aria-label^="发现"]')

    def expect_problem(self, row: int, column: str, text: str) -> Locator:
        line = self.problems().get_by_role("row").filter(has_text=column).filter(has_text=text)
        line = line.filter(has=self.page.get_by_role("cell", name=str(row), exact=True))
        expect(line.first).to_be_visible()
        return line.first

    def expect_clean(self, rows: int) -> None:
        expect(self.page.get_by_text(f"无错误数据：共 {rows} 行，可以导入")).to_be_visible()

    def run(self) -> None:
        self.page.get_by_role("button", name="导入", exact=True).click()

    def expect_done(self, created: int) -> None:
        expect(self.page.get_by_text(f"导入成功：新建 {created} 条")).to_be_visible()
