"""Steps the console's browser tests share."""
from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.console.pages.login import ConsoleLoginScreen
from tests.browser.console.pages.shell import HomeScreen
from tests.support.tenants import PEOPLE, Tenant

NAMES = {"admin": "主账号", **{key: name for key, (_, _, name) in PEOPLE.items()}}


def console_sign_in(page: Page, tenant: Tenant, role: str = "admin", *, bind: bool = True) -> HomeScreen:
    """Sign in at the console (现在绑定 by default: a typed URL keeps the session) and land on its home page."""
    page.goto("/console/login")
    ConsoleLoginScreen(page).sign_in(tenant.code, tenant.mobiles[role], tenant.password, bind=bind)
    return HomeScreen(page).expect_shown(NAMES[role])
