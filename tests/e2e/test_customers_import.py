"""xlsx import through the gateway: template, check by row and column, all-or-nothing
import, bad uploads (oversized, non-xlsx, formulas), and exports neutralised."""
from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant

C = "/api/v1/customers"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


def headers_of(http, t) -> list[str]:
    r = http.get(f"{C}/import/template", headers=t.headers("employee"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    return list(next(load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True)))


def xlsx(header: list[str], rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def uniq() -> tuple[str, str]:
    n = str(uuid.uuid4().int)
    return f"导入{uuid.uuid4().hex[:8]}", f"0512-{n[:8]}"


def row(name, landline, address="苏州", mobile="", lat=None, lng=None):
    return [name, address, landline, "", mobile, "电子", "A", "华东", lat, lng, ""]


def upload(http, t, path, data, role="employee", multipart=True, timeout=30.0):
    if multipart:
        return http.post(f"{C}/import/{path}" if path else f"{C}/import",
                         files={"file": ("c.xlsx", data, "application/octet-stream")}, headers=t.headers(role),
                         timeout=timeout)
    return http.post(f"{C}/import/{path}" if path else f"{C}/import", content=data,
                     headers=t.headers(role, **{"Content-Type": "application/octet-stream"}), timeout=timeout)


def count(http, t, q) -> int:
    return http.get(C, params={"q": q, "page_size": 200}, headers=t.headers("admin")).json()["total"]


def test_check_finds_every_problem_by_row_and_column(http, tenant):
    header = headers_of(http, tenant)
    held_name, held_land = uniq()
    assert http.post(C, json={"name": f"{held_name}有限公司", "address": "x", "landlines": [held_land]},
                     headers=tenant.headers("employee2")).status_code == 201
    n1, l1 = uniq()
    n2, l2 = uniq()
    rows = [
        row(f"{n1}有限公司", l1),                                  # 2 clean
        row(f"苏州{n1}有限公司", uniq()[1]),                        # 3 same key as row 2
        row("", uniq()[1]),                                       # 4 missing name
        row(f"{n2}有限公司", ""),                                   # 5 no phone
        row(f"{uniq()[0]}\u202e有限公司", uniq()[1]),               # 6 illegal character
        row(f"{held_name}（苏州）有限公司", uniq()[1]),              # 7 tenant duplicate by name
        row(f"{uniq()[0]}有限公司", held_land.replace("-", " ")),  # 8 tenant duplicate by number
        row(f"{uniq()[0]}有限公司", l1),                             # 9 in-file duplicate by number
        row("=1+2", uniq()[1]),                                   # 10 formula
        row(f"{uniq()[0]}有限公司", uniq()[1], lat=120, lng=31),    # 11 bad coordinate
    ]
    r = upload(http, tenant, "check", xlsx(header, rows))
    assert r.status_code == 200, r.text
    got = {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]}
    for want in [(3, "A", "duplicate_in_file"), (4, "A", "missing_required"), (5, "C", "missing_required"),
                 (6, "A", "illegal_characters"), (10, "A", "formula"), (11, "I", "invalid_coordinate"),
                 (9, "C", "duplicate_in_file"),
                 (7, "A", "duplicate_in_tenant"), (8, "C", "duplicate_in_tenant")]:  # in the same mixed file
        assert want in got, (want, got)
    assert r.json()["ok"] is False and r.json()["total"] == len(r.json()["problems"])
    # a row with another problem still names its tenant duplicate
    r = upload(http, tenant, "check", xlsx(header, [row(f"{held_name}有限公司", "", address="")]))
    got = {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]}
    assert {(2, "A", "duplicate_in_tenant"), (2, "B", "missing_required")} <= got, got
    clean_rows = [rows[0], rows[5], rows[6]]
    r = upload(http, tenant, "check", xlsx(header, clean_rows), multipart=False)
    got = {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]}
    assert got == {(3, "A", "duplicate_in_tenant"), (4, "C", "duplicate_in_tenant")}
    # and an import of a file with problems writes nothing
    r = upload(http, tenant, "", xlsx(header, clean_rows))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "import.has_problems"
    # the import finds the tenant duplicates itself (its unique key inserts), by row and column
    got = {(p["row"], p["column"], p["code"]) for p in r.json()["error"]["details"]["problems"]}
    assert got == {(3, "A", "duplicate_in_tenant"), (4, "C", "duplicate_in_tenant")}
    assert count(http, tenant, n1) == 0
    # and it reserved nothing: the clean row's name and number are free
    free = http.post(f"{C}/duplicate-check", json={"name": rows[0][0], "landlines": [l1]},
                     headers=tenant.headers("employee"))
    assert free.json()["duplicate"] is False, free.text
    assert upload(http, tenant, "", xlsx(header, [rows[0]])).status_code == 201


def test_changed_headers(http, tenant):
    header = headers_of(http, tenant)
    changed = ["公司"] + header[1:]
    r = upload(http, tenant, "check", xlsx(changed, [row(*uniq())]))
    assert {(p["row"], p["column"], p["code"]) for p in r.json()["problems"]} == {(1, "A", "header_changed")}


def test_clean_import_is_all_or_nothing_and_reports(http, tenant):
    header = headers_of(http, tenant)
    prefix = f"批{uuid.uuid4().hex[:6]}"
    rows = [row(f"{prefix}{i}号有限公司", f"0512-{str(uuid.uuid4().int)[:8]}", lat=31.0, lng=120.0)
            for i in range(25)]
    data = xlsx(header, rows)
    r = upload(http, tenant, "check", data)
    assert r.json() == {"ok": True, "rows": 25, "problems": [], "total": 0, "truncated": False}
    r = upload(http, tenant, "", data)
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["created"] == 25 and [c["row"] for c in rep["customers"]] == list(range(2, 27))
    assert count(http, tenant, prefix.lower()) == 25
    one = http.get(f"{C}/{rep['customers'][0]['id']}", headers=tenant.headers("employee")).json()
    assert one["owner_id"] == tenant.ids["employee"]
    r = upload(http, tenant, "", data)  # the same file again: every row is now a tenant duplicate
    assert r.status_code == 422
    assert count(http, tenant, prefix.lower()) == 25


def test_import_past_private_pool_capacity_is_refused_and_writes_nothing(http):
    t = make_tenant(http, TEST_OPERATOR_SECRET)
    assert http.put("/api/v1/pool/rules", json={"capacity": 2}, headers=t.headers("admin")).status_code == 200
    prefix = f"满{uuid.uuid4().hex[:6]}"
    rows = [row(f"{prefix}{i}号有限公司", f"0512-{str(uuid.uuid4().int)[:8]}") for i in range(3)]
    r = upload(http, t, "", xlsx(headers_of(http, t), rows))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "pool.capacity_full" and err["details"]["adding"] == 3 and err["details"]["capacity"] == 2
    assert count(http, t, prefix.lower()) == 0


@pytest.mark.parametrize("payload,status", [
    (b"name,address\nx,y\n", 415),
    (b"PK\x03\x04not really a zip", 415),
    (b"", 400),
])
def test_bad_uploads(http, tenant, payload, status):
    r = upload(http, tenant, "check", payload)
    assert r.status_code == status, r.text
    assert "error" in r.json()


def test_oversized_upload(http, tenant):
    before = http.get(C, headers=tenant.headers("admin")).json()["total"]
    r = upload(http, tenant, "", b"PK\x03\x04" + b"0" * (10 * 1024 * 1024 + 10))
    assert r.status_code == 413, r.text
    assert http.get(C, headers=tenant.headers("admin")).json()["total"] == before


def test_export_neutralises_formulas(http, tenant):
    n = str(uuid.uuid4().int)
    evil = f"{uuid.uuid4().hex[:6]}有限公司"
    r = http.post(C, json={"name": evil, "address": "=HYPERLINK(\"http://x\",\"y\")", "landlines": [f"0512-{n[:8]}"],
                           "remark": "@SUM(1)", "industry": "+cmd"}, headers=tenant.headers("employee"))
    assert r.status_code == 201, r.text
    xl = http.get(f"{C}/export", headers=tenant.headers("employee"))
    rows = list(load_workbook(io.BytesIO(xl.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    mine = next(x for x in rows if x[1] == evil)
    assert mine[2].startswith("'=") and mine[6] == "'+cmd"


@pytest.mark.slow
def test_check_of_ten_thousand_rows(http, tenant):
    header = headers_of(http, tenant)
    tag = uuid.uuid4().hex[:6]
    rows = [row(f"万行{tag}{i:05d}号有限公司", f"0513-{70000000 + i}") for i in range(10_000)]
    rows[9_999] = row(f"万行{tag}00001号有限公司", "0513-69999999")  # an in-file duplicate in the last row
    # the gateway's own timeout for an import is longer than the client's default: wait for it
    r = upload(http, tenant, "check", xlsx(header, rows), timeout=180)
    assert r.status_code == 200, r.text
    assert [(p["row"], p["code"]) for p in r.json()["problems"]] == [(10_001, "duplicate_in_file")]


@pytest.mark.parametrize("rows_n", [20, 260])  # events made pending before the answer / behind it
def test_import_rows_and_their_events_both_land(http, tenant, infra, stack_env, rows_n):
    import time

    import pymongo

    from crmkit.outbox import find_events

    db = pymongo.MongoClient(infra.mongo_uri)[f"{stack_env['MONGO_DB_PREFIX']}customers"]
    # room in the private pool whatever the module's other tests already entered
    assert http.put("/api/v1/pool/rules", json={"capacity": 2000}, headers=tenant.headers("admin")).status_code == 200
    header = headers_of(http, tenant)
    prefix = f"事{uuid.uuid4().hex[:6]}"
    data = xlsx(header, [row(f"{prefix}{i}号有限公司", f"0512-{str(uuid.uuid4().int)[:8]}")
                         for i in range(rows_n)])
    r = upload(http, tenant, "", data)
    assert r.status_code == 201, r.text
    rep = r.json()
    ids = {c["id"] for c in rep["customers"]}
    assert len(ids) == rows_n
    for cid in list(ids)[:5]:
        assert db["customers"].find_one({"_id": cid}) is not None
    deadline = time.monotonic() + 90
    while True:
        events = find_events(db, {"envelope.data.import_id": rep["import_id"]})
        if rows_n <= 20 or not any(e["status"] == "staged" for e in events) or time.monotonic() > deadline:
            break
        time.sleep(1)
    # the owner_changed of each row is the pool's (it keeps the ownership log): announced from
    # its own outbox once it sees the customer exist
    pool_db = pymongo.MongoClient(infra.mongo_uri)[f"{stack_env['MONGO_DB_PREFIX']}pool"]
    while True:
        announced = find_events(pool_db, {"envelope.data.import_id": rep["import_id"]})
        if len(announced) >= rows_n or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(events) == rows_n and len(announced) == rows_n
    assert {e["status"] for e in events} <= {"pending", "sent"}  # staged before the rows, committed after
    by_type: dict[str, set[str]] = {}
    for e in events:
        by_type.setdefault(e["envelope"]["type"], set()).add(e["envelope"]["data"]["customer_id"])
        assert e["check"] == {"collection": "customers", "filter": {"_id": e["envelope"]["data"]["customer_id"]}}
    for e in announced:
        cid = e["envelope"]["data"]["customer_id"]
        by_type.setdefault(e["envelope"]["type"], set()).add(cid)
        assert e["check"] == {"collection": "moves", "filter": {"_id": f"{cid}:1"}}
    assert by_type == {"customer.created": ids, "customer.owner_changed": ids}


def _padded(header: list[str], rows: list[list[object]], pad_bytes: int) -> bytes:
    """A workbook whose first sheet holds ``rows`` and a second sheet ``pad_bytes`` of
    incompressible text, so that the upload travels in several parts."""
    import secrets

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    pad = wb.create_sheet("pad")
    for _ in range(pad_bytes // 30000 + 1):
        pad.append([secrets.token_hex(15000)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("multipart", [True, False])
def test_a_workbook_larger_than_one_part_streams_through_and_leaves_no_parts(http, tenant, stack_env, infra,
                                                                            multipart):
    import pymongo

    t = tenant
    header = headers_of(http, t)
    (n1, l1), (n2, l2) = uniq(), uniq()
    data = _padded(header, [row(f"{n1}有限公司", l1), row(f"{n2}有限公司", l2)], 5_000_000)
    assert len(data) > 2 * 1024 * 1024  # three parts of at most 1 MiB
    r = upload(http, t, "check", data, multipart=multipart)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["rows"] == 2
    r = upload(http, t, "", data, multipart=multipart)
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 2 and count(http, t, n1) == 1
    db = pymongo.MongoClient(infra.mongo_uri)[f"{stack_env['MONGO_DB_PREFIX']}customers"]
    assert db["uploads"].count_documents({"tenant_id": t.tenant_id}) == 0  # spooled, then deleted


def test_an_upload_is_only_its_uploaders(http, tenant, rpc):
    """Parts are tenant- and user-bound: another user naming the upload gets 404."""
    import base64

    from crmkit.context import CallContext

    t = tenant
    header = headers_of(http, t)
    data = xlsx(header, [row(*uniq())])
    upload_id = uuid.uuid4().hex
    owner = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee"], roles=("employee",))
    other = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee2"], roles=("employee",))
    rpc.call("customers", "upload_part", ctx=owner, upload_id=upload_id, index=0,
             data_b64=base64.b64encode(data).decode())
    from crmkit.errors import NotFound
    with pytest.raises(NotFound) as info:
        rpc.call("customers", "import_check", ctx=other, upload_id=upload_id, parts=1)
    assert info.value.code == "upload.not_found"
    assert rpc.call("customers", "import_check", ctx=owner, upload_id=upload_id, parts=1)["ok"] is True
    with pytest.raises(NotFound):  # spooled once, then gone
        rpc.call("customers", "import_check", ctx=owner, upload_id=upload_id, parts=1)


@pytest.fixture
def small_download_parts(rpc, tenant):
    """Exports travel in parts of 1 KiB (the ``_test_set_download_part_bytes`` hook) for
    the test, so that a few dozen customers make a many-part download."""
    from crmkit.context import CallContext

    ctx = CallContext(tenant_id=tenant.tenant_id, user_id=tenant.ids["admin"], roles=("tenant_admin",))
    assert rpc.call("customers", "_test_set_download_part_bytes", ctx=ctx, part_bytes=1024)["part_bytes"] == 1024
    try:
        yield 1024
    finally:
        rpc.call("customers", "_test_set_download_part_bytes", ctx=ctx, part_bytes=None)


def test_an_export_larger_than_one_part_streams_out_and_leaves_no_parts(http, tenant, rpc, stack_env, infra,
                                                                        small_download_parts):
    import base64

    import pymongo

    from crmkit.context import CallContext
    from crmkit.errors import NotFound

    t = tenant
    db = pymongo.MongoClient(infra.mongo_uri)[f"{stack_env['MONGO_DB_PREFIX']}customers"]
    prefix = f"导出{uuid.uuid4().hex[:6]}"
    names = {f"{prefix}{i:03d}号有限公司" for i in range(60)}
    r = upload(http, t, "", xlsx(headers_of(http, t), [row(n, f"0512-{str(uuid.uuid4().int)[:8]}")
                                                      for n in sorted(names)]))
    assert r.status_code == 201, r.text

    # through the gateway: streamed, Content-Length up front, the workbook whole
    xl = http.get(f"{C}/export", headers=t.headers("employee"))
    assert xl.status_code == 200, xl.text
    assert xl.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="customers.xlsx"' in xl.headers["content-disposition"]
    assert int(xl.headers["content-length"]) == len(xl.content) > 3 * small_download_parts
    rows = list(load_workbook(io.BytesIO(xl.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("客户ID", "公司名称")
    assert {x[1] for x in rows[1:] if str(x[1]).startswith(prefix)} == names
    table = http.get(f"{C}/export/employee-customers", headers=t.headers("employee"))
    assert table.status_code == 200 and int(table.headers["content-length"]) == len(table.content)
    rows = list(load_workbook(io.BytesIO(table.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert {x[4] for x in rows[1:] if x[2] == "负责" and str(x[4]).startswith(prefix)} == names
    assert db["downloads"].count_documents({"tenant_id": t.tenant_id}) == 0  # each part deleted as it was read

    # the parts are the exporter's only, and one-shot
    owner = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee"], roles=("employee",))
    other = CallContext(tenant_id=t.tenant_id, user_id=t.ids["employee2"], roles=("employee",))
    got = rpc.call("customers", "export_customers", ctx=owner, timeout=60)
    assert got["parts"] > 3 and got["filename"] == "customers.xlsx"
    with pytest.raises(NotFound) as info:
        rpc.call("customers", "download_part", ctx=other, download_id=got["download_id"], index=0)
    assert info.value.code == "download.not_found"
    r = http.get(f"{C}/export", headers=t.headers("employee2"))  # their own export is not this one
    assert r.status_code == 200
    data = b"".join(base64.b64decode(rpc.call("customers", "download_part", ctx=owner,
                                              download_id=got["download_id"], index=i)["data_b64"])
                    for i in range(got["parts"]))
    assert len(data) == got["size"]
    rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert {x[1] for x in rows[1:] if str(x[1]).startswith(prefix)} == names
    with pytest.raises(NotFound):  # read once, then gone
        rpc.call("customers", "download_part", ctx=owner, download_id=got["download_id"], index=0)
    assert db["downloads"].count_documents({"tenant_id": t.tenant_id}) == 0
