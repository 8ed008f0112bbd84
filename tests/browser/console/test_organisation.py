"""Organisation in the console at 1440×900: create a department and an employee in it, invite
them (the status column shows 待确认), the invitee opens the invitation link on a phone and
joins (已加入) and signs in; a departure shows what will be handed to whom before it happens;
the per-department grant of the records page."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.org import DepartmentsScreen, EmployeesScreen, MenuPermissionsScreen
from tests.browser.flows import ADDRESS, company
from tests.browser.pages.calendar import CalendarScreen
from tests.browser.pages.login import LoginScreen
from tests.support.tenants import add_employee, random_mobile


def test_create_a_department_and_an_employee_invite_and_join(desks, phones, tenant, http):
    page = desks().new_page()
    home = console_sign_in(page, tenant, "admin", bind=True)
    home.go("组织架构", "部门管理")
    depts = DepartmentsScreen(page).expect_shown()
    team = f"华东{uuid.uuid4().hex[:4]}组"
    depts.create(team, "部门 dept_a")
    depts.select(team)
    expect(depts.tree()).to_contain_text(team)
    depts.set_manager("部门管理员 A")
    depts.shot("10-departments")

    depts.go("组织架构", "员工管理")
    employees = EmployeesScreen(page).expect_shown()
    mobile = random_mobile()
    employees.create("新员工丙", mobile, ["员工"], [team], invite=True)
    employees.toast("已创建员工")
    employees.search("新员工丙")
    employees.expect_status("新员工丙", "待确认")
    link = employees.invitation_link()
    employees.shot("11-employees-invited")

    phone = phones().new_page()  # the invitee opens the link on their phone
    phone.goto(link)
    expect(phone.get_by_role("heading", name="加入组织")).to_be_visible()
    phone.get_by_label("设置密码").fill("Join-pass-2024")
    phone.get_by_label("再次输入密码").fill("Join-pass-2024")
    phone.get_by_role("button", name="同意并加入").click()
    expect(phone.get_by_role("status")).to_contain_text(f"企业代码 {tenant.code}")
    phone.get_by_role("link", name="去登录").or_(phone.get_by_role("button", name="去登录")).first.click()
    LoginScreen(phone).sign_in(tenant.code, mobile, "Join-pass-2024", bind=False)
    CalendarScreen(phone).expect_shown()

    employees.search("新员工丙")
    employees.expect_status("新员工丙", "已加入")
    members = http.get("/api/v1/employees", params={"q": "新员工丙"}, headers=tenant.headers()).json()["items"]
    assert members[0]["status"] == "joined" and members[0]["dept_ids"] and members[0]["roles"] == ["employee"]


def test_a_departure_shows_what_passes_to_whom_before_it_happens(desks, tenant, http):
    leaver = add_employee(http, tenant, "离职员工丁", ["employee"], [tenant.depts["dept_a"]])
    theirs = {"Authorization": f"Bearer {leaver['token']}"}
    for _ in range(2):
        r = http.post("/api/v1/customers", headers=theirs, json={"name": company(), "address": ADDRESS,
                                                                 "mobiles": [random_mobile()]})
        assert r.status_code == 201, r.text
    page = desks().new_page()
    console_sign_in(page, tenant, "admin")
    page.goto("/console/organisation/employees?q=离职员工丁")
    employees = EmployeesScreen(page).expect_shown()
    dialog = employees.open_departure("离职员工丁")
    expect(dialog).to_contain_text("部门管理员 A")  # the manager of the primary department
    expect(dialog.get_by_role("row").filter(has_text="客户")).to_contain_text("2")
    employees.shot("12-departure-preview")
    dialog.get_by_role("button", name="确认删除并交接").click()
    employees.toast("已删除员工")
    r = http.get("/api/v1/employees", params={"q": "离职员工丁"}, headers=tenant.headers())
    assert r.json()["items"] == []


def test_the_records_page_is_granted_per_department(desks, tenant, http):
    page = desks().new_page()
    console_sign_in(page, tenant, "admin")
    MenuPermissionsScreen(page).open()
    grants = MenuPermissionsScreen(page).expect_shown()
    grants.grant("部门 dept_b")
    grants.shot("13-menu-permissions")
    saved = http.get("/api/v1/menu-permissions", headers=tenant.headers()).json()
    assert saved["grants"]["customer_visits"] == [tenant.depts["dept_b"]]
    assert http.get("/api/v1/visits/records", headers=tenant.headers("employee2")).status_code == 200
    r = http.get("/api/v1/visits/records", headers=tenant.headers("employee"))
    assert r.status_code == 403 and re.search("records_forbidden", r.text)
