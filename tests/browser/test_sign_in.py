"""Sign-in on a phone: both modes (现在绑定 reopens without a password, 普通登录 asks again),
the device token only in an HttpOnly Secure SameSite=Strict cookie, logout clears it, and
every refusal reason in plain Chinese."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.pages.calendar import CalendarScreen
from tests.browser.pages.login import LoginScreen
from tests.support.tenants import add_employee


def test_bound_device_reopens_without_a_password_and_logout_clears_the_cookie(phones, tenant):
    ctx = phones()
    page = ctx.new_page()
    page.goto("/m/")
    login = LoginScreen(page).expect_shown()
    login.shot("01-login")
    login.sign_in(tenant.code, tenant.mobiles["employee"], tenant.password, bind=True)
    CalendarScreen(page).expect_shown()
    cookies = {c["name"]: c for c in ctx.cookies()}
    device = cookies["crm_device"]
    assert device["httpOnly"] and device["secure"] and device["sameSite"] == "Strict"
    assert device["path"] == "/api/v1/auth"
    assert "crm_device" not in page.evaluate("document.cookie")  # out of reach of scripts
    stored = page.evaluate("JSON.stringify([localStorage, sessionStorage])")
    assert "token" not in stored.lower() and not re.search(r"ey[A-Za-z0-9_-]{20,}", stored)  # no JWT kept
    page.close()

    reopened = ctx.new_page()  # the app opened again on the same phone
    reopened.goto("/m/")
    CalendarScreen(reopened).expect_shown()
    expect(reopened.get_by_role("heading", name="员工登录")).to_have_count(0)
    # the refresh rotated the device token: the cookie holds the new one (the old one is used
    # up — presenting it again would revoke the whole family), so the phone opens again and again
    rotated = {c["name"]: c for c in ctx.cookies()}["crm_device"]
    assert rotated["value"] != device["value"] and rotated["httpOnly"]
    reopened.close()
    reopened = ctx.new_page()
    reopened.goto("/m/")
    CalendarScreen(reopened).expect_shown()
    expect(reopened.get_by_role("heading", name="员工登录")).to_have_count(0)

    CalendarScreen(reopened).sign_out()
    LoginScreen(reopened).expect_shown()
    assert "crm_device" not in {c["name"] for c in ctx.cookies()}
    again = ctx.new_page()
    again.goto("/m/calendar")
    LoginScreen(again).expect_shown()


def test_plain_login_asks_again_next_time(phones, tenant):
    ctx = phones()
    page = ctx.new_page()
    page.goto("/m/")
    LoginScreen(page).sign_in(tenant.code, tenant.mobiles["employee"], tenant.password, bind=False)
    CalendarScreen(page).expect_shown()
    assert "crm_device" not in {c["name"] for c in ctx.cookies()}
    page.close()
    reopened = ctx.new_page()
    reopened.goto("/m/")
    LoginScreen(reopened).expect_shown()


def test_every_refusal_reason_in_plain_chinese(phones, tenant, http):
    page = phones().new_page()
    page.goto("/m/login")
    login = LoginScreen(page)
    login.sign_in(tenant.code, "13000000000", tenant.password, bind=False)
    login.expect_error("没有这个员工账号")
    login.shot("01b-login-error")
    login.sign_in(tenant.code, tenant.mobiles["employee2"], "wrong-password-1", bind=False)
    login.expect_error("密码错误，还可以再试 4 次")
    pending = add_employee(http, tenant, "未加入员工", ["employee"], [tenant.depts["dept_a"]], join=False)
    login.sign_in(tenant.code, pending["mobile"], "whatever-123", bind=False)
    login.expect_error("您还未加入组织")
    disabled = add_employee(http, tenant, "停用员工", ["employee"], [tenant.depts["dept_a"]])
    assert http.post(f"/api/v1/employees/{disabled['id']}/disable", headers=tenant.headers()).status_code == 200
    login.sign_in(tenant.code, disabled["mobile"], tenant.password, bind=False)
    login.expect_error("该账号已被停用")
    left = add_employee(http, tenant, "离职员工", ["employee"], [tenant.depts["dept_a"]])
    assert http.delete(f"/api/v1/employees/{left['id']}", headers=tenant.headers()).status_code == 200
    login.sign_in(tenant.code, left["mobile"], tenant.password, bind=False)
    login.expect_error("已离开组织")
    locked = add_employee(http, tenant, "锁定员工", ["employee"], [tenant.depts["dept_a"]])
    for _ in range(5):
        login.sign_in(tenant.code, locked["mobile"], "wrong-password-2", bind=False)
    login.expect_error("账号已锁定，请在")
    support_only = tenant.mobiles["support"]
    login.sign_in(tenant.code, support_only, tenant.password, bind=False)
    login.expect_error("此账号不能使用拜访工具")
