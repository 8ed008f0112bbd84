from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.console.pages.base import ConsoleScreen


class ConsoleLoginScreen(ConsoleScreen):
    path = "/console/login"

    def expect_shown(self) -> ConsoleLoginScreen:
        expect(self.heading("管理后台登录")).to_be_visible()
        return self

    def sign_in(self, tenant_code: str, mobile: str, password: str, *, bind: bool) -> None:
        self.expect_shown()
        self.page.get_by_label("企业代码").fill(tenant_code)
        self.page.get_by_label("手机号").fill(mobile)
        self.page.get_by_label("密码", exact=True).fill(password)
        mode = "现在绑定" if bind else "普通登录"
        self.page.get_by_text(re.compile(f"^{mode}")).first.click()
        expect(self.page.get_by_role("radio", name=re.compile(f"^{mode}"))).to_be_checked()
        with self.page.expect_response("**/api/v1/auth/login"):
            self.page.get_by_role("button", name="登录", exact=True).click()

    def expect_error(self, text: str) -> None:
        expect(self.page.get_by_role("alert")).to_contain_text(text)
