from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages.base import Screen


class LoginScreen(Screen):
    path = "/m/login"

    def expect_shown(self) -> LoginScreen:
        expect(self.page.get_by_role("heading", name="员工登录")).to_be_visible()
        return self

    def sign_in(self, tenant_code: str, mobile: str, password: str, *, bind: bool) -> None:
        self.expect_shown()
        self.page.get_by_label("企业代码").fill(tenant_code)
        self.page.get_by_label("手机号").fill(mobile)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_text("现在绑定" if bind else "普通登录", exact=True).click()
        with self.page.expect_response("**/api/v1/auth/login"):
            self.page.get_by_role("button", name="登录", exact=True).click()

    def expect_error(self, text: str) -> None:
        expect(self.alert()).to_contain_text(text)
