"""Bounded workbook imports through the gateway: a zip bomb and a 64 MiB cell are refused
before they are expanded, with a small answer, and the service keeps answering; a DOCTYPE
is 415; only the roles that enter customers may import; downloads carry Chinese headers
with their English keys and times in the tenant's time zone; the template's sample row is
never imported. (Memory growth of the customers process is measured in bench/customers.py.)"""
from __future__ import annotations

import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant
from tests.support.workbooks import _declare, replaced, shared_strings_bomb, workbook

C = "/api/v1/customers"
HEADERS = ["公司名称*", "经营地址*", "座机", "传真", "手机", "行业", "等级", "区域", "纬度", "经度", "备注"]
CONTACT_HEADERS = ["姓名*", "手机*", "标签*", "负责人*", "职务", "公司", "地址"]


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


@pytest.fixture(scope="module")
def bombs():
    """Built here, never committed: 1 GiB in one cell (~1 MB file), 64 MiB in one cell (~66 KB
    file), and the 64 MiB one whose zip claims a harmless 40 MiB."""
    giga = shared_strings_bomb(HEADERS, 1 << 30)
    mega = shared_strings_bomb(HEADERS, 64 << 20)
    liar = _declare(mega, "xl/sharedStrings.xml", 40 << 20)
    assert len(giga) < 2 << 20 and len(mega) < 100 << 10
    return {"1GiB": giga, "64MiB": mega, "64MiB-declared-40MiB": liar}


def post(http, t, path, data, role="employee"):
    return http.post(path, files={"file": ("c.xlsx", data, "application/octet-stream")}, headers=t.headers(role))


def still_answers(http, t) -> None:
    r = http.post(f"{C}/duplicate-check", json={"name": "仍然在线有限公司"}, headers=t.headers("employee"))
    assert r.status_code == 200, r.text
    n = str(uuid.uuid4().int)
    ok = post(http, t, f"{C}/import/check", workbook(HEADERS, [[f"在线{uuid.uuid4().hex[:6]}有限公司", "苏州",
                                                                f"0512-{n[:8]}"]]))
    assert ok.status_code == 200 and ok.json()["ok"] is True, ok.text


@pytest.mark.parametrize("name,code", [("1GiB", "import.part_too_large"), ("64MiB", "import.part_too_large"),
                                       ("64MiB-declared-40MiB", "import.cell_too_large")])
@pytest.mark.parametrize("path", [f"{C}/import/check", f"{C}/import", "/api/v1/contacts/import/check"])
def test_a_workbook_that_inflates_past_the_limits_is_refused_small_and_the_service_stays_up(
        http, tenant, bombs, name, code, path):
    role = "admin" if "contacts" in path else "employee"
    r = post(http, tenant, path, bombs[name], role)
    assert r.status_code == 413, r.text[:500]
    assert len(r.content) < 2000  # no echo of the cell
    err = r.json()["error"]
    assert err["code"] == code and err["details"]["part"] == "xl/sharedStrings.xml"
    still_answers(http, tenant)


def test_a_doctype_in_a_workbook_part_is_415_for_both_imports(http, tenant):
    data = workbook(HEADERS, [["x", "y", "0512-67891234"]])
    evil = replaced(data, "xl/sharedStrings.xml",
                    b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&b;</t></si></sst>')
    for path, role in ((f"{C}/import/check", "employee"), (f"{C}/import", "employee"),
                       ("/api/v1/contacts/import/check", "admin")):
        r = post(http, tenant, path, evil, role)
        assert r.status_code == 415, (path, r.status_code, r.text[:300])
        assert r.json()["error"]["code"] == "import.xml_doctype"
    still_answers(http, tenant)


def test_a_long_problem_list_is_capped_with_its_total(http, tenant):
    rows = [[f"=A{i}", "=B1", "=C1"] for i in range(400)]  # 3 problems a row
    r = post(http, tenant, f"{C}/import/check", workbook(HEADERS, rows))
    assert r.status_code == 200, r.text[:300]
    rep = r.json()
    assert rep["ok"] is False and rep["total"] == 1200 and rep["truncated"] is True and len(rep["problems"]) == 200
    assert rep["problems"][0]["row"] == 2
    long_header = workbook(["公" * 30_000, *HEADERS[1:]])
    r = post(http, tenant, f"{C}/import/check", long_header)
    assert r.status_code == 200 and len(r.content) < 2000, r.text[:300]


@pytest.mark.parametrize("path", [f"{C}/import/check", f"{C}/import"])
def test_only_the_roles_that_enter_customers_may_import(http, tenant, path):
    n = str(uuid.uuid4().int)
    data = workbook(HEADERS, [[f"角色{uuid.uuid4().hex[:6]}有限公司", "苏州", f"0512-{n[:8]}"]])
    r = post(http, tenant, path, data, role="support")
    assert r.status_code == 403 and r.json()["error"]["code"] == "customer.entry_forbidden", r.text
    assert post(http, tenant, path, data, role="employee").status_code in (200, 201)
    one = http.post(C, json={"name": f"支持{uuid.uuid4().hex[:6]}有限公司", "address": "x",
                             "landlines": [f"0512-{str(uuid.uuid4().int)[:8]}"]}, headers=tenant.headers("support"))
    assert one.status_code == 403  # single entry follows the same rule


def test_the_template_sample_row_is_never_imported_and_headers_name_their_keys(http, tenant):
    for path, headers in ((f"{C}/import/template", HEADERS), ("/api/v1/contacts/import/template", CONTACT_HEADERS)):
        r = http.get(path, headers=tenant.headers("admin"))
        assert r.status_code == 200
        wb = load_workbook(io.BytesIO(r.content))
        first = wb.worksheets[0]
        assert [c.value for c in first[1]] == headers and first.max_row == 1
        assert all(c.comment is not None and c.comment.text.startswith("key: ") for c in first[1])
        assert len(wb.worksheets) == 2  # the sample lives on the instructions sheet
    data = http.get(f"{C}/import/template", headers=tenant.headers("employee")).content
    check = post(http, tenant, f"{C}/import/check", data)
    assert check.json() == {"ok": True, "rows": 0, "problems": [], "total": 0, "truncated": False}
    r = post(http, tenant, f"{C}/import", data)
    assert r.status_code == 422 and r.json()["error"]["code"] == "import.empty", r.text
    sample = http.get(C, params={"q": "苏州示例精密电子"}, headers=tenant.headers("admin")).json()
    assert sample["total"] == 0


def test_exports_have_chinese_headers_with_keys_and_times_in_the_tenants_zone(http):
    t = make_tenant(http, TEST_OPERATOR_SECRET)
    r = http.patch("/api/v1/visits/settings", json={"time_zone": "America/New_York"}, headers=t.headers())
    assert r.status_code == 200, r.text
    n = str(uuid.uuid4().int)
    c = http.post(C, json={"name": f"时区{uuid.uuid4().hex[:6]}有限公司", "address": "x",
                           "landlines": [f"0512-{n[:8]}"]}, headers=t.headers("employee")).json()
    xl = http.get(f"{C}/export", headers=t.headers("employee"))
    ws = load_workbook(io.BytesIO(xl.content)).worksheets[0]
    header = [cell.value for cell in ws[1]]
    assert header[:3] == ["客户ID", "公司名称", "经营地址"] and header[-1] == "创建时间"
    assert [cell.comment.text.split("\n")[0] for cell in ws[1]][:3] == ["key: id", "key: name", "key: address"]
    assert "America/New_York" in ws.cell(1, len(header)).comment.text
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == c["id"])
    created = datetime.fromisoformat(c["created_at"].replace("Z", "+00:00"))
    assert row[-1] == created.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")
    table = load_workbook(io.BytesIO(http.get(f"{C}/export/employee-customers",
                                              headers=t.headers("employee")).content)).worksheets[0]
    assert [cell.value for cell in table[1]] == ["员工ID", "员工姓名", "关系", "客户ID", "客户名称"]
    assert table.cell(1, 3).comment.text.startswith("key: relation")
