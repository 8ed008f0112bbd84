"""The Idempotency-Key layer against the real database (MONGO_URI, default the local
FerretDB) with a stand-in bridge that counts effects."""
from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from crmkit.errors import Unavailable
from gateway.app import create_app
from gateway.canonical import request_hash

from conftest import DB_PREFIX, TEST_TOKEN, FakeBridge, make_settings

MONGO_URI = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/")


class Bridge(FakeBridge):
    """Two callers (two tokens); every service call is one effect, numbered."""

    def __init__(self):
        super().__init__(self._answer)
        self.effects = 0
        self.delay = 0.0
        self.fail_next = False
        self.lock = threading.Lock()

    def _answer(self, service, method, kwargs):
        time.sleep(self.delay)
        with self.lock:
            if self.fail_next:
                self.fail_next = False
                return Unavailable("service_unavailable", "down", {})
            self.effects += 1
            return {"effect": self.effects, "kwargs": kwargs}

    async def call(self, service, method, kwargs=None, *, context=None, timeout=None):
        if (service, method) == ("identity", "authenticate") and kwargs.get("token") == "other-token":
            return {"tenant_id": "t1", "user_id": "u2", "roles": ["employee"], "dept_ids": [], "name": "Other"}
        return await super().call(service, method, kwargs, context=context, timeout=timeout)


@pytest.fixture
def bridge():
    return Bridge()


@pytest.fixture
def client(bridge):
    settings = make_settings(mongo_uri=MONGO_URI, mongo_db_prefix=f"{DB_PREFIX}{uuid.uuid4().hex[:6]}_",
                             idempotency_wait_seconds=10.0)
    with TestClient(create_app(settings, bridge=bridge), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {TEST_TOKEN}"}) as c:
        yield c


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


NOTE = "/api/v1/customers/c1/contact-notes"


def test_same_key_same_request_replays_the_first_answer(client, bridge):
    k = key()
    first = client.post(NOTE, json={"content": "电话", "kind": "call"}, headers=k)
    again = client.post(NOTE, json={"kind": "call", "content": "电话"}, headers=k)  # same body, other key order
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and bridge.effects == 1
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]


def test_same_key_other_request_is_422(client, bridge):
    k = key()
    assert client.post(NOTE, json={"content": "a"}, headers=k).status_code == 201
    r = client.post(NOTE, json={"content": "b"}, headers=k)
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency.key_reused"
    r = client.post("/api/v1/customers/c2/contact-notes", json={"content": "a"}, headers=k)
    assert r.status_code == 422
    assert bridge.effects == 1


def test_keys_are_the_callers_own(client, bridge):
    k = key()
    client.post(NOTE, json={"content": "a"}, headers=k)
    r = client.post(NOTE, json={"content": "b"}, headers={**k, "Authorization": "Bearer other-token"})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert bridge.effects == 2


def test_a_concurrent_pair_has_one_effect(client, bridge):
    bridge.delay = 0.5
    k = key()
    barrier = threading.Barrier(2)
    answers = [None, None]

    def send(i):
        barrier.wait()
        answers[i] = client.post(NOTE, json={"content": "同时"}, headers=k)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json() and bridge.effects == 1
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true"]


def test_a_5xx_releases_the_key_for_a_retry(client, bridge):
    k = key()
    bridge.fail_next = True
    assert client.post(NOTE, json={"content": "a"}, headers=k).status_code == 503
    r = client.post(NOTE, json={"content": "a"}, headers=k)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers and bridge.effects == 1


def test_4xx_answers_are_replayed_too(client, bridge):
    k = key()
    first = client.post(NOTE, json={"kind": "fax", "content": "x"}, headers=k)
    again = client.post(NOTE, json={"kind": "fax", "content": "x"}, headers=k)
    assert first.status_code == again.status_code == 400 and again.headers["idempotent-replayed"] == "true"
    assert bridge.effects == 0


def test_without_a_key_or_for_reads_nothing_is_kept(client, bridge):
    client.post(NOTE, json={"content": "a"})
    client.post(NOTE, json={"content": "a"})
    assert bridge.effects == 2
    k = key()
    client.get("/api/v1/customers/c1", headers=k)
    r = client.get("/api/v1/customers/c1", headers=k)
    assert "idempotent-replayed" not in r.headers and bridge.effects == 4


def test_bad_keys_are_400(client):
    r = client.post(NOTE, json={"content": "a"}, headers={"Idempotency-Key": "x" * 201})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_idempotency_key"


def test_expired_keys_run_again_and_are_purged(client, bridge):
    k = key()
    client.post(NOTE, json={"content": "a"}, headers=k)
    store = client.app.state.idempotency
    past = datetime.now(UTC) - timedelta(hours=1)
    client.portal.call(lambda: store.keys.update_many({}, {"$set": {"expires_at": past}}))
    r = client.post(NOTE, json={"content": "a"}, headers=k)
    assert "idempotent-replayed" not in r.headers and bridge.effects == 2
    client.portal.call(lambda: store.keys.update_many({}, {"$set": {"expires_at": past}}))
    assert client.portal.call(store.purge, datetime.now(UTC)) >= 1
    assert client.portal.call(store.keys.count_documents, {}) == 0


def test_multipart_retries_are_the_same_request_whatever_the_boundary(client, bridge):
    k = key()
    files = {"photo": ("p.jpg", b"\xff\xd8" + b"x" * 5000, "image/jpeg")}
    data = {"lat": "31.2", "lng": "121.5"}
    first = client.post("/api/v1/visits/v1/check-in", files=files, data=data, headers=k)
    again = client.post("/api/v1/visits/v1/check-in", files=files, data=data, headers=k)
    assert first.status_code == 200, first.text
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    other = client.post("/api/v1/visits/v1/check-in", files={"photo": ("p.jpg", b"\xff\xd8other", "image/jpeg")},
                        data=data, headers=k)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency.key_reused"


def test_canonical_hash_ignores_the_boundary_and_json_spacing():
    import io

    def form(boundary: str) -> bytes:
        return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"lat\"\r\n\r\n31.2\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n"
                f"Content-Type: image/jpeg\r\n\r\nJPEGDATA\r\n--{boundary}--\r\n").encode()

    a = request_hash("POST", "/x", b"", "multipart/form-data; boundary=aaa", io.BytesIO(form("aaa")))
    b = request_hash("POST", "/x", b"", "multipart/form-data; boundary=bbb", io.BytesIO(form("bbb")))
    assert a == b
    j1 = request_hash("POST", "/x", b"b=2&a=1", "application/json", io.BytesIO(b'{"a": 1, "b": [1, 2]}'))
    j2 = request_hash("POST", "/x", b"a=1&b=2", "application/json", io.BytesIO(b'{"b":[1,2],"a":1}'))
    assert j1 == j2
    assert j1 != request_hash("POST", "/x", b"", "application/json", io.BytesIO(b'{"a": 2}'))


def test_shutdown_is_prompt_while_a_purge_swallows_its_cancellation():
    """pymongo's async driver can swallow a cancellation that lands inside an operation; the
    purge loop then went back to its 10-minute sleep and held the app's shutdown (seen as a
    hanging TestClient teardown). The loop now stops on an event, and the wait is bounded."""
    import asyncio

    from gateway.idempotency import purge_loop, stop_purge

    class Stubborn:
        purges = 0

        async def purge(self, now):
            self.purges += 1
            try:
                await asyncio.sleep(0.3)
            except asyncio.CancelledError:  # what the driver did: finish the operation, drop the cancel
                await asyncio.sleep(0.1)
            return 0

    async def run() -> float:
        store, stop = Stubborn(), asyncio.Event()
        task = asyncio.create_task(purge_loop(store, stop, every=600))
        await asyncio.sleep(0.05)  # inside the first purge
        started = time.monotonic()
        await stop_purge(task, stop, grace=2)
        assert task.done() and store.purges == 1
        return time.monotonic() - started

    assert asyncio.run(run()) < 2
