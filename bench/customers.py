"""Customers benchmarks for ``make bench`` (``run(stack, infra, env)`` like bench/*.py).

With 100 000 customers loaded in one tenant:
- duplicate check (name key + two numbers) through the gateway, p50/p99, next to the
  same three indexed equality lookups done with bare pymongo;
- import of a 10 000-row xlsx through the gateway (rows/s), next to openpyxl alone
  reading the same file (read_only, values only);
- hostile workbooks (a 1 MB file whose shared strings inflate to one 1 GiB cell, a 66 KB
  file with a 64 MiB cell, the same claiming 40 MiB in its zip): the check's answer time
  and the peak memory growth of the gateway and the customers process, next to the same
  figures for the check of a one-row workbook and of the 10 000-row file.
"""
from __future__ import annotations

import io
import os
import time
import uuid
from datetime import UTC, datetime

import httpx
import pymongo

from bench.load import http_load, ratio, timed_loop

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
DUP_CONCURRENCY = 8
DUP_TOTAL = 1000


def _tenant(stack, env):
    """A fresh tenant; returns its id and a function giving fresh auth headers."""
    code = f"bcust{uuid.uuid4().hex[:8]}"
    mobile, password = "13700000001", "Bench-pass-123"
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        r = http.post("/api/v1/operator/tenants", headers={"X-Operator-Secret": env["OPERATOR_SECRET"]}, json={
            "code": code, "name": "bench", "admin_mobile": mobile, "admin_name": "bench", "admin_password": password})
        r.raise_for_status()
        tenant_id = r.json()["tenant_id"]
        body = http.post("/api/v1/auth/login", json={"tenant_code": code, "mobile": mobile,
                                                     "password": password}).json()
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        me.raise_for_status()
        admin_id = me.json()["id"]
        # the import puts every row in the importer's private pool: make room for them
        _ok(http.put("/api/v1/pool/rules", json={"capacity": 100_000},
                     headers={"Authorization": f"Bearer {body['access_token']}"}))

    def auth() -> dict[str, str]:
        with httpx.Client(base_url=stack.url, timeout=30) as http:
            token = http.post("/api/v1/auth/login", json={"tenant_code": code, "mobile": mobile,
                                                          "password": password}).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    return tenant_id, admin_id, auth


def _ok(r: httpx.Response) -> httpx.Response:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:500]}")
    return r


def _load(db, tenant_id: str, owner: str) -> tuple[str, str]:
    now = datetime.now(UTC)
    batch_c, batch_n, batch_p = [], [], []
    for i in range(CUSTOMERS):
        cid = uuid.uuid4().hex
        key, land = f"基准{i:06d}精密", f"0512{60000000 + i}"
        batch_c.append({"_id": cid, "tenant_id": tenant_id, "name": f"苏州{key}有限公司", "address": "苏州",
                        "landlines": [land], "faxes": [], "mobiles": [], "name_key": key, "phone_keys": [land],
                        "owner_id": owner, "owner_seq": 1, "unowned": False, "shared_with": [], "dept_ids": [],
                        "kind": "own", "created_at": now, "updated_at": now, "deleted": False})
        batch_n.append({"_id": f"{tenant_id}|{key}", "tenant_id": tenant_id, "key": key, "customer_id": cid,
                        "at": now})
        batch_p.append({"_id": f"{tenant_id}|{land}", "tenant_id": tenant_id, "key": land, "customer_id": cid,
                        "at": now})
        if len(batch_c) == 5000 or i == CUSTOMERS - 1:
            db["customers"].insert_many(batch_c)
            db["name_keys"].insert_many(batch_n)
            db["phone_keys"].insert_many(batch_p)
            batch_c, batch_n, batch_p = [], [], []
    mid = CUSTOMERS // 2
    return f"基准{mid:06d}精密", f"0512{60000000 + mid}"


def _xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    from customers.sheets import HEADERS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("customers")
    ws.append(list(HEADERS))
    tag = uuid.uuid4().hex[:6]
    for i in range(rows):
        ws.append([f"导入{tag}{i:05d}号有限公司", "苏州市某路 1 号", f"0513-{70000000 + i}", "", "", "电子", "A",
                   "华东", 31.2, 120.5, ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run(stack, infra, env) -> None:
    tenant_id, admin_id, auth = _tenant(stack, env)
    db = pymongo.MongoClient(infra.mongo_uri)[f"{env.get('MONGO_DB_PREFIX', '')}customers"]
    with httpx.Client(base_url=stack.url, timeout=60) as http:  # the service has created its indexes
        http.post("/api/v1/customers/duplicate-check", json={"name": "预热"}, headers=auth()).raise_for_status()
    started = time.perf_counter()
    key, land = _load(db, tenant_id, admin_id)  # held by a real employee (owner + supervisor named)
    print(f"loaded {CUSTOMERS} customers in {time.perf_counter() - started:.1f}s")

    body = {"name": f"江苏省苏州市{key}有限公司", "landlines": [land], "mobiles": ["13912345678"]}

    def bare() -> None:
        row = db["name_keys"].find_one({"_id": f"{tenant_id}|{key}"})
        db["phone_keys"].find_one({"_id": f"{tenant_id}|{land}"})
        db["phone_keys"].find_one({"_id": f"{tenant_id}|13912345678"})
        db["customers"].find_one({"_id": row["customer_id"]})

    url = f"{stack.url}/api/v1/customers/duplicate-check"
    http_load("warm-up", url, DUP_CONCURRENCY, 100, headers=auth(), method="POST", json_body=body)
    base = timed_loop("bare pymongo: 3 key lookups + 1 read", bare, 500)
    ours = http_load("POST /api/v1/customers/duplicate-check", url, DUP_CONCURRENCY, DUP_TOTAL, headers=auth(),
                     method="POST", json_body=body)
    print(base.line())
    print(ours.line())
    print(ratio(ours, base))

    from openpyxl import load_workbook

    data = _xlsx(IMPORT_ROWS)
    t = time.perf_counter()
    n = sum(1 for _ in load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    alone = time.perf_counter() - t
    pids = {name: stack.procs[name].popen.pid for name in ("gateway", "customers")}
    base_rss = {name: _reset_peak(pid) for name, pid in pids.items()}
    with httpx.Client(base_url=stack.url, timeout=600) as http:
        t = time.perf_counter()
        r = _ok(http.post("/api/v1/customers/import/check", files={"file": ("c.xlsx", data)}, headers=auth()))
        check = time.perf_counter() - t
        growth = {name: _peak(pid) - base_rss[name] for name, pid in pids.items()}
        if not r.json().get("ok"):
            raise RuntimeError(f"import check found problems: {str(r.json())[:500]}")
        t = time.perf_counter()
        r = _ok(http.post("/api/v1/customers/import", files={"file": ("c.xlsx", data)}, headers=auth()))
        imported = time.perf_counter() - t
        if r.json().get("created") != IMPORT_ROWS:
            raise RuntimeError(f"import created {r.json().get('created')} of {IMPORT_ROWS} rows")
    print(f"{'openpyxl alone (read_only, values)':<48} {(n - 1) / alone:9.0f} rows/s")
    for label, secs in ((f"POST /customers/import/check ({IMPORT_ROWS} rows)", check),
                        (f"POST /customers/import ({IMPORT_ROWS} rows)", imported)):
        print(f"{label:<48} {IMPORT_ROWS / secs:9.0f} rows/s  ({secs:.1f}s)")
    print(f"  ratio import/openpyxl-alone: {alone / imported:.3f}x throughput")
    mb = 1024 * 1024
    print(f"  peak memory growth during the check of a {len(data) / mb:.2f} MB file: "
          + ", ".join(f"{name} {g / mb:.1f} MB ({g / len(data):.1f}x the file)" for name, g in growth.items()))
    _hostile(stack, auth, pids, growth)


def _hostile(stack, auth, pids: dict[str, int], clean_growth: dict[str, int]) -> None:
    """Zip bombs next to a one-row workbook: time to the answer and peak memory growth."""
    from customers.sheets import HEADERS
    from tests.support.workbooks import _declare, shared_strings_bomb, workbook

    mb = 1024 * 1024
    mega = shared_strings_bomb(HEADERS, 64 << 20)
    files = {"one-row workbook (baseline)": (workbook(HEADERS, [["基准一行有限公司", "苏州", "0512-61234567"]]), 200),
             "1 GiB cell, 1 MB file": (shared_strings_bomb(HEADERS, 1 << 30), 413),
             "64 MiB cell, 66 KB file": (mega, 413),
             "64 MiB cell, zip claims 40 MiB": (_declare(mega, "xl/sharedStrings.xml", 40 << 20), 413)}
    base_secs = None
    with httpx.Client(base_url=stack.url, timeout=600) as http:
        headers = auth()
        for label, (data, status) in files.items():
            before = {name: _reset_peak(pid) for name, pid in pids.items()}
            t = time.perf_counter()
            r = http.post("/api/v1/customers/import/check", files={"file": ("c.xlsx", data)}, headers=headers)
            secs = time.perf_counter() - t
            growth = {name: _peak(pid) - before[name] for name, pid in pids.items()}
            if r.status_code != status:
                raise RuntimeError(f"{label}: {r.status_code} {r.text[:300]}")
            base_secs = base_secs or secs
            print(f"{'POST /customers/import/check ' + label:<64} {r.status_code} in {secs:6.2f}s "
                  f"({secs / base_secs:4.1f}x the one-row check), answer {len(r.content)} B; peak growth "
                  + ", ".join(f"{name} {g / mb:.1f} MB ({g / max(clean_growth[name], 1):.2f}x the 10 000-row check)"
                              for name, g in growth.items()))
        r = http.post("/api/v1/customers/duplicate-check", json={"name": "之后仍在线"}, headers=headers)
        print(f"  the service answers afterwards: duplicate-check {r.status_code}")


def _status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak(pid: int) -> int:
    """Reset the process's peak RSS (VmHWM) to its current RSS; return that."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status(pid, "VmRSS")


def _peak(pid: int) -> int:
    return _status(pid, "VmHWM")
