"""Contact import: owners given by a colleague's real name; ambiguous names are refused
in the check step; all-or-nothing import."""
from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import Workbook

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import add_employee, make_tenant, random_mobile

K = "/api/v1/contacts"
HEADER = ["姓名*", "手机*", "标签*", "负责人*", "职务", "公司", "地址"]


@pytest.fixture(scope="module")
def t(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def post(http, t, path, data, role="admin"):
    return http.post(f"{K}/import{path}", files={"file": ("c.xlsx", data)}, headers=t.headers(role))


def test_contact_import_check_and_import(http, t):
    tag = f"重点{uuid.uuid4().hex[:4]}"
    r = http.post("/api/v1/tag-groups", json={"name": f"级别{uuid.uuid4().hex[:4]}", "color": "red", "tags": [tag]},
                  headers=t.headers("admin"))
    assert r.status_code == 201, r.text
    twin = f"重名{uuid.uuid4().hex[:4]}"
    for _ in range(2):
        add_employee(http, t, twin, ["employee"], [t.depts["dept_b"]], join=False)
    assert http.get(f"{K}/import/template", headers=t.headers("admin")).status_code == 200
    held = random_mobile()
    assert http.post(K, json={"name": "已有", "mobile": held}, headers=t.headers("employee")).status_code == 201
    m1 = random_mobile()
    rows = [
        ["张三", m1, tag, "员工 A", "经理", "某公司", "苏州"],      # 2 clean
        ["李四", random_mobile(), tag, twin, "", "", ""],          # 3 ambiguous owner
        ["王五", random_mobile(), tag, "没有这个人", "", "", ""],     # 4 unknown owner
        ["赵六", random_mobile(), "没有的标签", "员工 A", "", "", ""],  # 5 unknown tag
        ["钱七", random_mobile(), "", "员工 A", "", "", ""],         # 6 missing tag
        ["孙八", m1, tag, "员工 A", "", "", ""],                    # 7 in-file duplicate
        ["周九", held, tag, "员工 A", "", "", ""],                  # 8 tenant duplicate
        ["吴十", t.mobiles["employee2"], tag, "员工 A", "", "", ""],  # 9 colleague's phone
    ]
    assert post(http, t, "/check", xlsx(rows), role="employee").status_code == 403
    r = post(http, t, "/check", xlsx(rows))
    assert r.status_code == 200, r.text
    got = {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]}
    # every problem of the mixed file at once: the file's own and the tenant's
    assert got == {(3, "D", "owner_ambiguous"), (4, "D", "owner_not_found"), (5, "C", "tag_not_found"),
                   (6, "C", "missing_required"), (7, "B", "duplicate_in_file"), (8, "B", "duplicate_in_tenant"),
                   (9, "B", "colleague_mobile")}, got
    rows2 = [rows[0], rows[1], rows[2], rows[3], rows[6], rows[7]]
    r = post(http, t, "/check", xlsx(rows2))
    got = {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]}
    assert got == {(3, "D", "owner_ambiguous"), (4, "D", "owner_not_found"), (5, "C", "tag_not_found"),
                   (6, "B", "duplicate_in_tenant"), (7, "B", "colleague_mobile")}, got
    assert post(http, t, "", xlsx(rows2)).status_code == 422
    assert http.get(K, params={"q": m1[-6:], "scope": "company"}, headers=t.headers("admin")).json()["total"] == 0
    r = post(http, t, "", xlsx([rows[0]]))
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 1
    mine = http.get(K, params={"q": m1[-6:]}, headers=t.headers("employee")).json()["items"]
    assert mine and mine[0]["owner_id"] == t.ids["employee"]
    assert post(http, t, "/check", xlsx([rows[0]], header=["名字", *HEADER[1:]])).json()["problems"][0]["code"] == \
        "header_changed"
