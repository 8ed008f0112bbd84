"""Customers in the console at 1440×900: entering a customer whose name key or number is held
shows the holder and cannot be submitted, a clean one goes in and opens in the drawer; the
drawer's tabs; one customer edited (a billing change runs the duplicate check); department
assignment; the admin deletes (audited), finds it among the deleted and restores it;
the filters live in the URL (a link opens the same view; back goes back); exports with progress."""
from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.customers import CustomersScreen, DeletedCustomersScreen, ExportsScreen
from tests.browser.flows import ADDRESS, new_customer


def test_entry_with_a_duplicate_shows_the_holder_and_a_clean_entry_opens_in_the_drawer(desks, tenant, http):
    trade = "日东" + uuid.uuid4().hex[:4]
    held = f"0512-{str(uuid.uuid4().int)[:8]}"
    new_customer(http, tenant, "employee", name=f"苏州{trade}精密电子有限公司", landlines=[held])
    page = desks().new_page()
    home = console_sign_in(page, tenant, "admin")
    home.go("客户管理", "客户列表")
    screen = CustomersScreen(page).expect_shown()
    dialog = screen.open_entry()
    screen.fill(dialog, name=f"{trade}精密电子（苏州）中心有限公司", address=ADDRESS, landlines="021-55550000")
    screen.expect_duplicate_held_by(dialog, "负责人：员工 A", "其主管：部门管理员 A", "名称相同")
    expect(screen.submit_button(dialog)).to_be_disabled()
    screen.shot("20-customer-entry-duplicate")
    screen.fill(dialog, name=f"无锡{uuid.uuid4().hex[:4]}贸易有限公司", landlines=held.replace("-", " "))
    screen.expect_duplicate_held_by(dialog, "负责人：员工 A", "号码相同")

    clean = f"杭州{uuid.uuid4().hex[:5]}软件有限公司"
    screen.fill(dialog, name=clean, landlines=f"0571-{str(uuid.uuid4().int)[:8]}")
    screen.expect_clean(dialog)
    expect(screen.submit_button(dialog)).to_be_enabled()
    screen.submit_button(dialog).click()
    screen.toast("客户已录入")
    drawer = page.get_by_role("dialog", name=clean)
    expect(drawer).to_be_visible()
    expect(page).to_have_url(re.compile(r"customer="))  # the drawer is in the URL: a link opens it
    screen.drawer_tab(drawer, "业务往来")
    expect(drawer).to_contain_text("录入")
    screen.drawer_tab(drawer, "联系小计")
    drawer.get_by_label("内容").fill("电话沟通了报价")
    drawer.get_by_role("button", name="记录联系").click()
    expect(drawer).to_contain_text("电话沟通了报价")
    screen.drawer_tab(drawer, "归属记录")
    expect(drawer.get_by_role("row").filter(has_text="录入")).to_contain_text("主账号")
    screen.shot("21-customer-drawer")
    drawer.get_by_role("button", name="编辑").click()
    edit = screen.dialog("编辑客户")
    expect(edit).to_contain_text("一次只能编辑一个客户")
    other = f"宁波{uuid.uuid4().hex[:4]}精密电子有限公司"
    new_customer(http, tenant, "employee2", name=other)
    edit.get_by_label("开票抬头").fill(other)  # the billing title of someone else's customer
    screen.expect_duplicate_held_by(edit, "负责人：员工 B")
    expect(screen.submit_button(edit, "保存")).to_be_disabled()
    edit.get_by_label("开票抬头").fill(clean)
    edit.get_by_label("行业").fill("软件")
    expect(screen.submit_button(edit, "保存")).to_be_enabled()
    screen.submit_button(edit, "保存").click()
    screen.toast("客户已保存")
    saved = http.get("/api/v1/customers", params={"q": clean}, headers=tenant.headers()).json()["items"][0]
    assert saved["industry"] == "软件" and saved["billing"]["title"] == clean


def test_filters_live_in_the_url_and_departments_are_assigned(desks, tenant, http):
    tag = uuid.uuid4().hex[:4]
    a = new_customer(http, tenant, "employee", name=f"上海{tag}甲精密电子有限公司", grade="A")
    b = new_customer(http, tenant, "employee", name=f"上海{tag}乙精密电子有限公司", grade="B")
    page = desks().new_page()
    console_sign_in(page, tenant, "admin")
    screen = CustomersScreen(page).open().expect_shown()
    screen.filter_keyword(tag)
    expect(screen.customer(a["name"])).to_be_visible()
    expect(screen.customer(b["name"])).to_be_visible()
    screen.choose("等级", "A")
    screen.search()
    expect(page).to_have_url(re.compile(r"grade=A"))
    expect(screen.customer(b["name"])).to_have_count(0)
    shared = page.url
    page.go_back()
    expect(screen.customer(b["name"])).to_be_visible()
    other = desks().new_page()  # the link, opened by someone else, shows the same view
    console_sign_in(other, tenant, "admin")
    other.goto(shared)
    expect(CustomersScreen(other).customer(a["name"])).to_be_visible()
    expect(CustomersScreen(other).customer(b["name"])).to_have_count(0)

    page.goto(f"/console/customers/list?q={tag}")
    screen.select_rows(a["name"], b["name"])
    screen.assign_departments("部门 dept_b")
    screen.toast("已分配 2 个客户")
    page.goto(f"/console/customers/list?q={tag}&dept_id={tenant.depts['dept_b']}")
    expect(screen.customer(a["name"])).to_be_visible()
    expect(screen.list()).to_contain_text("部门 dept_b")
    screen.shot("22-customers-filtered")


def test_the_admin_deletes_a_customer_and_restores_it_from_the_deleted_list(desks, tenant, http):
    c = new_customer(http, tenant, "employee")
    page = desks().new_page()
    console_sign_in(page, tenant, "admin")
    page.goto(f"/console/customers/list?q={c['name']}")
    screen = CustomersScreen(page).expect_shown()
    screen.delete(c["name"], "重复录入")
    expect(screen.customer(c["name"])).to_have_count(0)
    screen.go("客户管理", "已删除客户")
    deleted = DeletedCustomersScreen(page).expect_shown()
    expect(deleted.row(c["name"])).to_contain_text("重复录入")
    expect(deleted.row(c["name"])).to_contain_text("主账号")
    deleted.shot("23-deleted-customers")
    deleted.restore(c["name"])
    back = http.get(f"/api/v1/customers/{c['id']}", headers=tenant.headers("employee"))
    assert back.status_code == 200 and back.json()["owner_id"] == tenant.ids["employee"]
    # a plain employee has no delete button (and the API refuses)
    emp = desks().new_page()
    console_sign_in(emp, tenant, "employee")
    emp.goto(f"/console/customers/list?q={c['name']}")
    expect(CustomersScreen(emp).customer(c["name"])).to_be_visible()
    expect(CustomersScreen(emp).customer(c["name"]).get_by_role("button", name="删除")).to_have_count(0)
    assert http.delete(f"/api/v1/customers/{c['id']}", headers=tenant.headers("employee")).status_code == 403


def test_exports_download_with_progress(desks, tenant, http):
    for _ in range(3):
        new_customer(http, tenant, "employee")
    page = desks().new_page()
    console_sign_in(page, tenant, "admin")
    page.goto("/console/customers/exports")
    screen = ExportsScreen(page).expect_shown()
    with page.expect_download() as got:
        page.get_by_role("button", name="导出").first.click()
    download = got.value
    assert download.suggested_filename.endswith(".xlsx")
    # openpyxl goes by the file name's extension: read the saved download as bytes
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert any(str(h or "").startswith("公司名称") for h in rows[0]), rows[0]
    assert len(rows) >= 4  # the header and at least the three customers entered here
    expect(page.get_by_role("progressbar").first).to_be_visible()
    screen.toast("已下载")
    with page.expect_download() as got2:
        page.get_by_role("button", name="导出").nth(1).click()
    assert got2.value.suggested_filename.endswith(".xlsx")
    screen.shot("24-exports")
