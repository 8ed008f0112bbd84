from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.pages.base import Screen


class PoolScreen(Screen):
    path = "/m/pool"

    def expect_shown(self) -> PoolScreen:
        expect(self.page.get_by_text("公海").first).to_be_visible()
        return self

    def search(self, text: str) -> None:
        self.page.get_by_placeholder("名称或行业关键词").fill(text)

    def entry(self, name: str) -> Locator:
        return self.page.get_by_role("group", name=name).or_(self.page.get_by_label(name)).first

    def claim_button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=f"挑入 {name}")

    def claim(self, name: str) -> None:
        self.claim_button(name).click()

    def expect_refusal(self, *texts: str) -> str:
        dialog = self.page.get_by_role("dialog").filter(has_text=re.compile("|".join(texts)))
        expect(dialog).to_be_visible()
        text = dialog.inner_text()
        assert any(t in text for t in texts), text
        return text


class ClaimRequestScreen(Screen):
    path = "/m/pool/request"

    def fill(self, name: str, landline: str, fax: str, address: str, remarks: str) -> None:
        self.page.get_by_label("客户名称").fill(name)
        self.page.get_by_label("座机").fill(landline)
        self.page.get_by_label("传真").fill(fax)
        self.page.get_by_label("地址").fill(address)
        self.page.get_by_label("备注").fill(remarks)

    def check(self) -> None:
        self.page.get_by_role("button", name="查重").click()

    def submit(self) -> None:
        self.page.get_by_role("button", name="提交申请").click()
