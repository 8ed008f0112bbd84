from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages.base import Screen


class PlanScreen(Screen):
    path = "/m/visits/new"

    def expect_shown(self) -> PlanScreen:
        expect(self.page.get_by_text("新建拜访计划").first).to_be_visible()
        return self

    def choose_customer(self, name: str) -> None:
        self.page.get_by_role("textbox", name="客户", exact=True).fill(name[:6])
        self.page.get_by_role("option").filter(has_text=name).click()

    def fill(self, topic: str) -> None:
        self.page.get_by_label("拜访主题").fill(topic)
        self.page.get_by_role("radio", name="客户现场").click()

    def use_my_position(self) -> None:
        self.page.get_by_role("button", name="使用我的位置").click()
        expect(self.page.get_by_text("精度")).to_be_visible()

    def read_and_accept_policy(self) -> None:
        self.page.get_by_text("阅读《拜访制度》").click()
        expect(self.page.get_by_role("note")).to_contain_text("有效拜访")
        self.page.get_by_role("checkbox", name="我已阅读并同意《拜访制度》").click()

    def submit(self) -> None:
        self.page.get_by_role("button", name="提交").click()


class VisitScreen(Screen):
    def expect_status(self, status: str) -> None:
        expect(self.page.get_by_role("status").filter(has_text=status).first).to_be_visible()

    def take_photo(self, jpeg: bytes, name: str = "sign.jpg") -> None:
        self.page.get_by_label("签到照片").set_input_files({"name": name, "mimeType": "image/jpeg", "buffer": jpeg})
        expect(self.page.get_by_role("img", name="签到照片")).to_be_visible()
        expect(self.page.get_by_text("定位：GPS")).to_be_visible()

    def check_in(self) -> None:
        self.page.get_by_role("button", name="提交签到").click()

    def check_out(self) -> None:
        self.page.get_by_role("button", name="签退", exact=True).click()
        self.page.get_by_role("dialog").get_by_role("button", name="确认").click()

    def write_notes(self, text: str) -> None:
        self.page.get_by_label("拜访小记").fill(text)
        self.page.get_by_role("button", name="提交小记").click()

    def back(self) -> None:
        self.page.get_by_text("返回").first.click()
