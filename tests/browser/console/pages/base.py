"""The console's frame, shared by every console screen: the side menu, breadcrumbs, the language
switch, sign-out, toasts, and a screenshot of the screen."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


class ConsoleScreen:
    path = "/console/"

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self):
        self.page.goto(self.path)
        return self

    # -- the frame -------------------------------------------------------------------------
    def menu(self) -> Locator:
        return self.page.get_by_role("navigation", name=re.compile("主菜单|Main menu"))

    def menu_group(self, title: str) -> Locator:
        return self.menu().get_by_role("menuitem", name=title, exact=True)

    def menu_entries(self) -> list[str]:
        """Every entry the side menu offers (groups opened one by one), as visible text."""
        names: list[str] = []
        groups = self.menu().locator(".el-sub-menu")
        for i in range(groups.count()):
            group = groups.nth(i)
            title = group.locator(".el-sub-menu__title").first
            if group.locator(".el-menu--inline").first.is_hidden():
                title.click()
                expect(group.locator(".el-menu--inline").first).to_be_visible()
            names.append(title.inner_text().strip())
            items = group.locator(".el-menu-item")
            names += [items.nth(j).inner_text().strip() for j in range(items.count())]
        top = self.menu().locator(":scope > ul > .el-menu-item")
        names += [top.nth(j).inner_text().strip() for j in range(top.count())]
        return names

    def go(self, group: str | None, entry: str) -> None:
        """Open a screen from the side menu, as a person would."""
        if group:
            g = self.menu().locator(".el-sub-menu").filter(has=self.page.locator(".el-sub-menu__title", has_text=group))
            if g.locator(".el-menu--inline").first.is_hidden():
                g.locator(".el-sub-menu__title").first.click()
            g.get_by_role("menuitem", name=entry, exact=True).click()
        else:
            self.menu().get_by_role("menuitem", name=entry, exact=True).click()

    def breadcrumbs(self) -> Locator:
        return self.page.get_by_role("navigation", name=re.compile("当前位置|You are here"))

    def expect_breadcrumbs(self, *parts: str) -> None:
        expect(self.breadcrumbs()).to_have_text(re.compile(r"\s*/\s*".join(map(re.escape, parts))))

    def switch_language(self) -> None:
        self.page.get_by_role("button", name=re.compile("切换语言|Switch language")).click()

    def sign_out(self) -> None:
        self.page.locator(".c-user").click()
        self.page.get_by_role("menuitem", name=re.compile("退出登录|Sign out")).click()

    def toast(self, text: str | re.Pattern[str]) -> None:
        expect(self.page.locator(".el-message").filter(has_text=text).first).to_be_visible()

    def heading(self, name: str | re.Pattern[str]) -> Locator:
        return self.page.get_by_role("heading", name=name)

    def expect_title(self, title: str) -> None:
        expect(self.page.get_by_role("heading", name=title, level=1)).to_be_visible()

    # -- Element Plus controls, found by their labels --------------------------------------
    def dropdown(self) -> Locator:
        """The open select's option list (Element Plus teleports it to the body)."""
        return self.page.locator(".el-select-dropdown, .el-tree-select__popper").locator("visible=true").last

    def choose(self, label: str, *options: str, scope: Locator | None = None) -> None:
        """Pick options of the select (or tree select) named `label`."""
        box = (scope or self.page).get_by_role("combobox", name=label).first
        # the box a person clicks: the input sits under the shown value
        wrapper = box.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' el-select__wrapper ')][1]")
        wrapper.click()
        expect(box).to_have_attribute("aria-expanded", "true")
        listbox = self.page.locator(f"#{box.get_attribute('aria-controls')}")
        for option in options:
            listbox.get_by_text(option, exact=False).first.click()
        if box.get_attribute("aria-expanded") == "true":  # a multiple select stays open: click beside it
            title = scope.locator(".el-dialog__title, .el-drawer__title") if scope is not None else None
            (title.first if title is not None and title.count() else self.page.locator("h1").first).click()
        expect(box).to_have_attribute("aria-expanded", "false")

    def pick(self, group: str, option: str, scope: Locator | None = None) -> None:
        """Pick an option of the radio group named `group` (its visible text, as a person clicks it)."""
        (scope or self.page).get_by_role("radiogroup", name=group).get_by_text(option, exact=True).click()

    def dialog(self, title: str | re.Pattern[str]) -> Locator:
        return self.page.get_by_role("dialog", name=title)

    def row(self, text: str, scope: Locator | None = None) -> Locator:
        return (scope or self.page).get_by_role("row").filter(has_text=text)

    def table(self, name: str) -> Locator:
        return self.page.get_by_role("table", name=name).or_(self.page.locator(f'.el-table[aria-label="{name}"]')).first

    def search(self, button: str = "查询") -> None:
        self.page.get_by_role("button", name=button, exact=True).click()

    # -- pictures ----------------------------------------------------------------------------
    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        target = SHOTS / f"console-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        self.page.wait_for_load_state("networkidle")
        mask = self.page.locator(".el-loading-mask")
        for i in range(mask.count()):
            if mask.nth(i).is_visible():
                mask.nth(i).wait_for(state="hidden")
        self.page.screenshot(path=str(target), full_page=True)
        return target
