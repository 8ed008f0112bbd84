"""The import wizard at 1440×900 (seed 002: 模板下载 → 导入 → 检测 → 导入): the template
downloads; a file with problems lists each by row and column (a row opens its details) and
cannot be imported; a clean file is checked, imported with a progress bar, and the summary says
what was created — for customers and for contacts (owners by a colleague's real name; an
ambiguous name is refused)."""
from __future__ import annotations

import io
import uuid
from pathlib import Path

from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.imports import ImportScreen
from tests.support.tenants import add_employee, random_mobile


def workbook(path: Path, header: list, rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def header_of(template: Path) -> list:
    # openpyxl goes by the file name's extension (a download's path has none): read the bytes
    book = load_workbook(io.BytesIO(template.read_bytes()), read_only=True)
    return list(next(book.worksheets[0].iter_rows(values_only=True)))


def test_customer_import_lists_problems_by_row_and_column_then_imports_a_clean_file(desks, tenant, http, tmp_path):
    page = desks().new_page()
    home = console_sign_in(page, tenant, "admin")
    home.go("客户管理", "客户导入")
    wizard = ImportScreen(page).expect_shown()
    header = header_of(wizard.download_template())
    assert header[0] == "公司名称*" and header[1] == "经营地址*"
    n = str(uuid.uuid4().int)
    same = f"导入{uuid.uuid4().hex[:6]}精密电子有限公司"
    bad = workbook(tmp_path / "problems.xlsx", header, [
        [same, "苏州市工业园区", f"0512-{n[:8]}", "", "", "电子", "A", "华东", None, None, ""],
        [f"导入{uuid.uuid4().hex[:6]}贸易有限公司", "", f"0512-{n[8:16]}", "", "", "", "", "", None, None, ""],
        [f"导入{uuid.uuid4().hex[:6]}科技有限公司", "苏州", "not-a-phone", "", "", "", "", "", None, None, ""],
        [same, "苏州市工业园区", f"0512-{n[16:24]}", "", "", "", "", "", None, None, ""],
    ])
    wizard.choose_file(bad)
    wizard.check()
    expect(page.get_by_role("alert").filter(has_text="发现")).to_contain_text("个问题")
    wizard.expect_problem(3, "B", "必填项为空")  # row 3 = the second data row; column B = 经营地址
    wizard.expect_problem(4, "C", "电话号码无效").click()
    expect(page.get_by_text("行 4 · C")).to_be_visible()  # the clicked problem's details
    wizard.expect_problem(5, "A", "文件内重复")
    expect(page.get_by_role("button", name="导入", exact=True)).to_be_disabled()
    wizard.shot("30-import-problems")

    m = str(uuid.uuid4().int)
    names = [f"导入{uuid.uuid4().hex[:6]}精密电子有限公司", f"导入{uuid.uuid4().hex[:6]}软件有限公司"]
    clean = workbook(tmp_path / "clean.xlsx", header, [
        [names[0], "苏州市工业园区", f"0512-{m[:8]}", "", "", "电子", "A", "华东", 31.3, 120.6, ""],
        [names[1], "苏州市姑苏区", f"0512-{m[8:16]}", "", "", "软件", "B", "华东", None, None, ""],
    ])
    wizard.choose_file(clean)
    wizard.check()
    wizard.expect_clean(2)
    wizard.shot("31-import-clean")
    wizard.run()
    wizard.expect_done(2)
    expect(page.get_by_label("导入数据").or_(page.locator(".el-table").last)).to_contain_text(names[0])
    wizard.shot("32-import-done")
    for name in names:
        found = http.get("/api/v1/customers", params={"q": name}, headers=tenant.headers()).json()
        assert found["total"] == 1 and found["items"][0]["owner_id"] == tenant.admin_id


def test_contact_import_refuses_an_ambiguous_owner_and_imports_a_clean_file(desks, tenant, http, tmp_path):
    group = f"级别{uuid.uuid4().hex[:4]}"
    r = http.post("/api/v1/tag-groups", json={"name": group, "color": "green", "tags": [{"name": "重点客户"}]},
                  headers=tenant.headers())
    assert r.status_code == 201, r.text
    for _ in range(2):
        add_employee(http, tenant, "重名同事", ["employee"], [tenant.depts["dept_b"]], join=False)
    page = desks().new_page()
    console_sign_in(page, tenant, "admin")
    page.goto("/console/contacts/import")
    wizard = ImportScreen(page, "联系人导入").expect_shown()
    header = header_of(wizard.download_template())
    assert header[:4] == ["姓名*", "手机*", "标签*", "负责人*"]
    bad = workbook(tmp_path / "contacts-bad.xlsx", header, [
        ["王经理", random_mobile(), "重点客户", "重名同事", "采购经理", "", ""],
        ["李经理", random_mobile(), "没有这个标签", "员工 A", "", "", ""],
    ])
    wizard.choose_file(bad)
    wizard.check()
    wizard.expect_problem(2, "D", "负责人重名")
    wizard.expect_problem(3, "C", "标签不存在")
    wizard.shot("33-contact-import-problems")
    mobiles = [random_mobile(), random_mobile()]
    clean = workbook(tmp_path / "contacts.xlsx", header, [
        ["王经理", mobiles[0], "重点客户", "员工 A", "采购经理", "", ""],
        ["李经理", mobiles[1], "重点客户", "员工 B", "", "", ""],
    ])
    wizard.choose_file(clean)
    wizard.check()
    wizard.expect_clean(2)
    wizard.run()
    wizard.expect_done(2)
    mine = http.get("/api/v1/contacts", params={"q": mobiles[0]}, headers=tenant.headers("employee")).json()
    assert mine["total"] == 1 and mine["items"][0]["owner_id"] == tenant.ids["employee"]
