"""The revocation feed (gateway/feed.py) on the real broker: it consumes identity's signed
``employee.access_changed`` events, and after every (re)connect it loads the revocations again
before the set is trusted — in between, requests ask identity. Identity's ``revocations``
answer is a stand-in here (the real one: tests/e2e/test_gateway_auth.py)."""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pika
import pytest

from crmkit.access import EVENT_TYPE, AccessChange, access_key
from crmkit.clock import iso
from crmkit.context import ContextSigner
from crmkit.envelope import make_event, sign_event
from crmkit.errors import Unauthenticated
from gateway.access import LocalAuth
from gateway.feed import AccessFeed

from conftest import AMQP_URI

pytestmark = pytest.mark.anyio
KEY = "feed-test-key-" + "k" * 32


def _change(user: str, tv: int, av: int) -> AccessChange:
    return AccessChange(employee_id=user, tenant_id="t-feed", tv=tv, av=av, roles=("employee",), dept_ids=(),
                        name="n", active=True, reason="logout", until=iso(datetime.now(UTC) + timedelta(minutes=15)))


def _token(user: str, tv: int, av: int = 1) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"iss": "crm-identity", "typ": "access", "tid": "t-feed", "sub": user, "roles": ["employee"],
                       "dept": [], "name": "n", "tv": tv, "av": av, "iat": now, "exp": now + 600},
                      access_key(KEY), algorithm="HS256")


class Revocations:
    """identity.revocations, answering ``entries``; a load can be held to look at the gap."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self.calls: list[tuple[str, str, dict, object]] = []
        self.hold = asyncio.Event()
        self.hold.set()

    async def call(self, service, method, kwargs=None, *, context=None, timeout=None):
        self.calls.append((service, method, kwargs, context))
        await self.hold.wait()
        return {"entries": list(self.entries), "next": None, "horizon_seconds": 900}


async def _until(cond, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


def _publish(envelope: dict) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URI))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish("identity.events", EVENT_TYPE, json.dumps(envelope))
    finally:
        conn.close()


async def test_events_apply_and_every_reconnect_reloads_before_the_set_is_trusted():
    user, missed = f"u-{uuid.uuid4().hex[:6]}", f"m-{uuid.uuid4().hex[:6]}"
    identity = Revocations()
    auth = LocalAuth(KEY)
    feed = AccessFeed(AMQP_URI, auth, identity, KEY, min_backoff=0.05, max_backoff=0.2)
    await feed.start()
    try:
        assert await feed.wait_synced(20) and feed.loads == 1
        service, method, kwargs, context = identity.calls[0]
        assert (service, method, kwargs) == ("identity", "revocations", {"after": None, "limit": 500})
        assert isinstance(context, ContextSigner) and context.ctx.roles == ("system",)
        assert auth.who(_token(user, tv=1)).user_id == user  # trusted, nothing known against it

        # a signed event revokes; an unsigned one is dropped
        env = make_event(EVENT_TYPE, "t-feed", user, _change(user, tv=2, av=2).to_data(), occurred_at=datetime.now(UTC))
        await asyncio.to_thread(_publish, sign_event(env, "not-the-key-" * 3))
        await asyncio.to_thread(_publish, sign_event({**env, "event_id": uuid.uuid4().hex}, KEY))
        await _until(lambda: len(auth.table) == 1)
        with pytest.raises(Unauthenticated) as e:
            auth.who(_token(user, tv=1))
        assert e.value.code == "token.revoked"

        # the connection drops; what happens meanwhile is only in identity's answer
        identity.hold.clear()
        identity.entries = [_change(missed, tv=5, av=5).to_data()]
        conn = feed._conn
        assert conn is not None
        conn.close()
        await _until(lambda: len(identity.calls) == 2)  # reconnected, loading
        assert not auth.ready and auth.who(_token(missed, tv=4)) is None  # not trusted: ask identity
        identity.hold.set()
        assert await feed.wait_synced(20) and feed.loads == 2
        with pytest.raises(Unauthenticated) as e:
            auth.who(_token(missed, tv=4))
        assert e.value.code == "token.revoked"
        with pytest.raises(Unauthenticated):
            auth.who(_token(user, tv=1))  # what was learnt before the drop is kept
    finally:
        await feed.stop()
    assert not auth.ready
