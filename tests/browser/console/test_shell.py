"""The console's shell at 1440×900: sign-in in both modes with the mobile app's refusal
messages, a bound browser reopening without a password, the side menu per role and per
department grant (with the API's own 403 behind what it hides), the route guards, breadcrumbs,
the zh-CN/en switch and sign-out."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.login import ConsoleLoginScreen
from tests.browser.console.pages.shell import DeniedScreen, HomeScreen
from tests.support.tenants import add_employee

ADMIN_GROUPS = ["组织架构", "客户管理", "外部联系人", "基础设置", "公海管理", "客户拜访", "报表中心", "消息通知"]
ADMIN_ONLY = ["菜单授权", "已删除客户", "联系人导入", "标签管理", "自定义字段", "公海规则", "Webhook", "邮件设置",
              "投递记录", "死信"]


def test_admin_signs_in_sees_every_screen_switches_language_and_signs_out(desks, tenant, http):
    ctx = desks()
    page = ctx.new_page()
    page.goto("/console/customers/list")
    login = ConsoleLoginScreen(page).expect_shown()  # the guard: signed out -> sign-in, then back
    login.shot("01-login")
    login.sign_in(tenant.code, tenant.mobiles["admin"], "wrong-password-1", bind=True)
    login.expect_error("密码错误，还可以再试 4 次")
    pending = add_employee(http, tenant, "未加入员工", ["employee"], [tenant.depts["dept_a"]], join=False)
    login.sign_in(tenant.code, pending["mobile"], "whatever-123", bind=False)
    login.expect_error("您还未加入组织")
    login.shot("01b-login-refused")

    login.sign_in(tenant.code, tenant.mobiles["admin"], tenant.password, bind=True)
    expect(page).to_have_url(re.compile(r"/console/customers/list$"))
    home = HomeScreen(page)
    home.expect_breadcrumbs("客户管理", "客户列表")
    entries = home.menu_entries()
    for name in ADMIN_GROUPS + ADMIN_ONLY + ["部门管理", "员工管理", "客户列表", "人员客户表", "客户导入", "挑入申请",
                                             "拜访记录", "有效性审核", "员工拜访汇总表", "客户分布", "收件箱"]:
        assert name in entries, f"{name} missing from the admin's menu: {entries}"
    home.go(None, "首页")
    home.expect_shown("主账号")
    home.shot("02-home-admin")

    home.go("客户拜访", "有效性审核")
    expect(page).to_have_url(re.compile(r"/console/visits/review$"))
    home.expect_breadcrumbs("客户拜访", "有效性审核")
    expect(home.heading("有效性审核")).to_be_visible()  # every screen is titled by its menu entry

    home.switch_language()
    home.expect_breadcrumbs("Visits", "Validity review")
    expect(home.heading("Validity review")).to_be_visible()
    assert "Organisation" in home.menu_entries()
    assert page.evaluate("document.documentElement.lang") == "en"
    home.shot("03-english")
    home.switch_language()
    home.expect_breadcrumbs("客户拜访", "有效性审核")

    reopened = ctx.new_page()  # a bound browser opens the console again: no password asked
    reopened.goto("/console/")
    HomeScreen(reopened).expect_shown("主账号")
    reopened.close()

    home.sign_out()
    ConsoleLoginScreen(page).expect_shown()
    assert "crm_device" not in {c["name"] for c in ctx.cookies()}
    again = ctx.new_page()
    again.goto("/console/")
    ConsoleLoginScreen(again).expect_shown()


def test_a_plain_sign_in_asks_again_after_a_reload(desk, tenant):
    home = console_sign_in(desk, tenant, "dept_admin", bind=False)
    home.shot("04-home-dept-admin")
    entries = home.menu_entries()
    assert "部门管理" in entries and "人员客户表" in entries and "回收预警" in entries
    assert not set(ADMIN_ONLY) & set(entries), entries
    desk.reload()
    ConsoleLoginScreen(desk).expect_shown()


def test_the_menu_follows_roles_and_the_department_grant_and_the_api_refuses_the_rest(desks, tenant, http):
    r = http.put("/api/v1/menu-permissions", json={"grants": {"customer_visits": [tenant.depts["dept_a"]]}},
                 headers=tenant.headers())
    assert r.status_code == 200, r.text

    granted = console_sign_in(desks().new_page(), tenant, "employee")  # dept_a: granted
    entries = granted.menu_entries()
    assert "拜访记录" in entries and "客户列表" in entries and "联系人列表" in entries, entries
    assert not {"组织架构", "基础设置", "挑入申请", "人员客户表", *ADMIN_ONLY} & set(entries), entries
    granted.go("客户拜访", "拜访记录")
    granted.expect_breadcrumbs("客户拜访", "拜访记录")
    granted.shot("05-menu-employee-granted")
    assert http.get("/api/v1/visits/records", headers=tenant.headers("employee")).status_code == 200

    page = desks().new_page()
    # dept_b: no grant; bound, so a URL typed into the address bar keeps the session
    other = console_sign_in(page, tenant, "employee2", bind=True)
    entries = other.menu_entries()
    assert "拜访记录" not in entries and "客户列表" in entries, entries
    other.shot("06-menu-employee-not-granted")
    page.goto("/console/visits/records")  # typed into the address bar: the guard refuses it
    DeniedScreen(page).expect_shown()
    other.shot("07-denied")
    r = http.get("/api/v1/visits/records", headers=tenant.headers("employee2"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "visit.records_forbidden", r.text
    page.goto("/console/organisation/departments")
    DeniedScreen(page).expect_shown()
    r = http.post("/api/v1/departments", json={"name": "越权部门", "parent_id": tenant.depts["root"]},
                  headers=tenant.headers("employee2"))
    assert r.status_code == 403, r.text

    support = console_sign_in(desks().new_page(), tenant, "support")
    entries = support.menu_entries()
    assert {"挑入申请", "公海客户", "有效性审核"} <= set(entries), entries
    assert not {"客户列表", "组织架构", "拜访记录"} & set(entries), entries
    support.shot("08-menu-support")
