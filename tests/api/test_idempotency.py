"""Idempotency-Key through the real stack.

Generated from the OpenAPI document: every operation that declares the Idempotency-Key
header gets one valid request, built from its schemas plus fixture data
(:mod:`tests.api.request_builder`, :mod:`tests.api.world`), and

1. a concurrent pair with one key: both get the same answer, a 2xx (a request the generator
   could not make valid fails the test), exactly one of them ran and the other is marked
   ``Idempotent-Replayed: true``;
2. the same request with that key once more: the same answer again, replayed;
3. another request with that key: ``422 idempotency.key_reused``.

Then the effects on the routes the issue names, counted through the API."""
from __future__ import annotations

import io
import logging
import time
import uuid

import httpx
import pytest

from tests.api.conftest import new_customer, plan_body
from tests.api.request_builder import CannotBuild, Operation, Request, build, operations
from tests.api.world import World, prepare
from tests.support.concurrency import parallel
from tests.support.waiting import wait_for

log = logging.getLogger("tests.api.idempotency")

#: operations whose retry cannot reach the key layer: they revoke the caller's own tokens, so a
#: retry is refused at authentication (401) before any key is looked at — there is no second
#: effect to prevent. They are still called once with a key, and the retry must be that 401.
REVOKE_THE_CALLER = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/employees/me/leave")}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def _send(http: httpx.Client, req: Request, headers: dict[str, str]) -> httpx.Response:
    return http.request(req.method, req.url, headers=headers, **req.kwargs())


def _same(a: httpx.Response, b: httpx.Response) -> bool:
    return (a.status_code, a.content) == (b.status_code, b.content)


def _check(http: httpx.Client, op: Operation, req: Request, auth: dict[str, str]) -> list[str]:
    label, k = op.label, _key()
    if (op.method, op.path) in REVOKE_THE_CALLER:
        first = _send(http, req, {**auth, **k})
        if first.status_code != 200:
            return [f"{label}: {first.status_code} {first.text[:300]}"]
        again = _send(http, req, {**auth, **k})
        return [] if again.status_code == 401 else [f"{label}: the retry after revoking got {again.status_code}"]
    pair = parallel(2, lambda _i: _send(http, req, {**auth, **k}), join_timeout=90)
    if any(not isinstance(p, httpx.Response) for p in pair):
        return [f"{label}: concurrent pair failed: {pair}"]
    a, b = pair
    if not 200 <= a.status_code < 300:
        return [f"{label}: cannot build a valid request: {a.status_code} {a.text[:300]}"]
    out = []
    replayed = sorted(p.headers.get("idempotent-replayed", "") for p in pair)
    if replayed != ["", "true"] or not _same(a, b):
        out.append(f"{label}: concurrent pair {a.status_code}/{b.status_code}, replayed={replayed}, "
                   f"same body={a.content == b.content}")
    again = _send(http, req, {**auth, **k})
    if not _same(again, a) or again.headers.get("idempotent-replayed") != "true":
        out.append(f"{label}: the retry got {again.status_code} replayed={again.headers.get('idempotent-replayed')}")
    other = _send(http, req.other(), {**auth, **k})
    code = other.json().get("error", {}).get("code") if other.headers.get("content-type", "").startswith(
        "application/json") else None
    if (other.status_code, code) != (422, "idempotency.key_reused"):
        out.append(f"{label}: another request with the key got {other.status_code} {code}")
    return out


@pytest.mark.timeout(600)
def test_every_mutating_operation_of_the_document(stack, http, t):
    doc = http.get("/api/v1/openapi.json").json()
    keyed = [op for op in operations(doc) if op.header("Idempotency-Key")]
    assert len(keyed) >= 60, [op.label for op in keyed]
    world = World(http, t)
    problems: list[str] = []
    took: list[tuple[float, str]] = []
    # the operations that revoke the caller's tokens run with spare employees; the rest as the admin
    for op in keyed:
        started = time.monotonic()
        try:
            prepared = prepare(world, op.method, op.path)
            problems += _check(http, op, build(doc, op, prepared), t.headers(prepared.role))
        except CannotBuild as exc:
            problems.append(f"{op.label}: cannot build a valid request: {exc}")
        except (AssertionError, httpx.HTTPError) as exc:
            problems.append(f"{op.label}: {exc!s:.500}")
        took.append((time.monotonic() - started, op.label))
        log.info("%-60s %5.1fs", op.label, took[-1][0])
    slowest = ", ".join(f"{label} {s:.1f}s" for s, label in sorted(took, reverse=True)[:5])
    log.info("%d operations in %.0fs; slowest: %s", len(keyed), sum(s for s, _ in took), slowest)
    assert not problems, "\n".join(problems)


def _twice(http: httpx.Client, method: str, url: str, headers: dict, **kw) -> tuple[httpx.Response, httpx.Response]:
    k = _key()
    return (http.request(method, url, headers={**headers, **k}, **kw),
            http.request(method, url, headers={**headers, **k}, **kw))


def test_a_plan_sent_twice_is_one_visit(http, t):
    c = new_customer(http, t)
    h = t.headers("employee")
    a, b = _twice(http, "POST", "/api/v1/visits", h, json=plan_body(c["id"]))
    assert a.status_code == 201, a.text
    assert b.json()["id"] == a.json()["id"] and b.headers["idempotent-replayed"] == "true"
    mine = http.get("/api/v1/visits", headers=h, params={"limit": 200}).json()["items"]
    assert [v["id"] for v in mine if v["customer_id"] == c["id"]] == [a.json()["id"]]
    k = _key()
    http.post("/api/v1/visits", headers={**h, **k}, json=plan_body(c["id"]))
    r = http.post("/api/v1/visits", headers={**h, **k}, json={**plan_body(c["id"]), "topic": "另一个"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency.key_reused"


def test_a_contact_note_sent_twice_is_one_note(http, t):
    c = new_customer(http, t)
    h = t.headers("employee")
    url = f"/api/v1/customers/{c['id']}/contact-notes"
    a, b = _twice(http, "POST", url, h, json={"kind": "call", "content": "电话"})
    assert a.status_code == 201 and b.json() == a.json()
    assert http.get(url, headers=h).json()["total"] == 1


def test_pool_commands_sent_twice_have_one_effect(http, t):
    c = new_customer(http, t)
    cid = c["id"]
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{cid}", headers=t.headers("employee")).status_code == 200,
             timeout=60, what="the pool knows the customer")
    a, b = _twice(http, "POST", f"/api/v1/customers/{cid}/release", t.headers("employee"), json={"reason": "无需求"})
    assert a.status_code == 200, a.text
    assert b.status_code == 200 and b.headers["idempotent-replayed"] == "true"
    a, b = _twice(http, "POST", f"/api/v1/pool/customers/{cid}/claim", t.headers("employee2"), json={})
    assert a.status_code == 200, a.text
    assert b.json() == a.json() and b.headers["idempotent-replayed"] == "true"
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{cid}", headers=t.headers("admin")).json().get("owner_id")
             == t.ids["employee2"], timeout=60, what="the claim is seen")
    held = http.get("/api/v1/pool/capacity", headers=t.headers("employee2")).json()["held"]
    a, b = _twice(http, "POST", f"/api/v1/pool/customers/{cid}/assign", t.headers("admin"),
                  json={"owner_id": t.ids["all_customers"], "reason": "调整"})
    assert a.status_code == 200, a.text
    assert b.headers["idempotent-replayed"] == "true"
    assert http.get("/api/v1/pool/capacity", headers=t.headers("employee2")).json()["held"] == held - 1
    log = http.get(f"/api/v1/customers/{cid}/ownership", headers=t.headers("admin")).json()
    assert [e.get("path") for e in log].count("assign") == 1
    n = str(uuid.uuid4().int)
    body = {"name": f"申请{uuid.uuid4().hex[:8]}有限公司", "landline": f"0512-{n[:8]}", "address": "苏州"}
    a, b = _twice(http, "POST", "/api/v1/pool/claim-requests", t.headers("employee"), json=body)
    assert a.status_code == 200, a.text
    assert b.json()["id"] == a.json()["id"]
    mine = http.get("/api/v1/pool/claim-requests", headers=t.headers("employee")).json()["items"]
    assert [r["id"] for r in mine if (r.get("elements") or {}).get("name") == body["name"]] == [a.json()["id"]]


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (120, 160, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_a_check_in_photo_sent_twice_is_one_check_in(http, t):
    c = new_customer(http, t)
    h = t.headers("employee")
    plan = http.post("/api/v1/visits", headers=h, json=plan_body(c["id"])).json()
    photo = _jpeg()
    form = {"lat": "31.3", "lng": "120.6", "accuracy": "10", "source": "gps"}
    k = _key()
    url = f"/api/v1/visits/{plan['id']}/check-in"
    a = http.post(url, headers={**h, **k}, files={"photo": ("p.jpg", photo, "image/jpeg")}, data=form)
    b = http.post(url, headers={**h, **k}, files={"photo": ("p.jpg", photo, "image/jpeg")}, data=form)
    assert a.status_code == 200, a.text
    assert b.content == a.content and b.headers["idempotent-replayed"] == "true"
    assert http.get(f"/api/v1/visits/{plan['id']}", headers=h).json()["status"] == "pending_check_out"
    r = http.post(url, headers={**h, **k}, files={"photo": ("p.jpg", photo + b"x", "image/jpeg")}, data=form)
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency.key_reused"
