"""One Idempotency-Key mechanism for every mutating route (pure ASGI, inside the auth layer).

For an authenticated ``POST/PUT/PATCH/DELETE`` under ``/api/v1/`` that carries an
``Idempotency-Key`` header:

1. the body is spooled (memory up to 1 MiB, then disk; the outer body limit bounds it) and
   the request fingerprinted (:mod:`gateway.canonical`: method, path, query, canonical body);
2. the key is claimed by an insert under a unique ``_id`` (:mod:`gateway.keystore`), scoped
   to the caller (tenant + user);
3. the winner runs the request and keeps its answer (status, headers, body up to
   ``MAX_KEPT``); an answer of 5xx (or an error) releases the claim so that a retry can run;
4. a later request with the same key and the same fingerprint gets the kept answer with
   ``Idempotent-Replayed: true`` — when the first is still running it waits for it (up to
   ``wait`` seconds, then ``409 idempotency.in_progress`` with ``Retry-After``); with another
   fingerprint it gets ``422 idempotency.key_reused``.

Requests without the header, unauthenticated ones (login, refresh, invitation acceptance —
they have no caller to scope a key to and are safe to retry) and operator calls pass through.
Keys expire after the store's TTL (24 h by default) and are purged by :func:`purge_loop`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import IO, Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmkit.errors import BusinessRule, Conflict, CrmError, InvalidInput, Unavailable
from gateway.canonical import request_hash
from gateway.errors import error_response, status_for
from gateway.keystore import KeyStore, key_id

log = logging.getLogger("gateway.idempotency")

HEADER = "idempotency-key"
REPLAYED = "idempotent-replayed"
MAX_KEY = 200
MAX_KEPT = 1024 * 1024  # answers larger than this are not kept (a retry gets 409 idempotency.answer_not_kept)
SPOOL_IN_MEMORY = 1024 * 1024
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: headers of the first answer that a replay repeats
KEPT_HEADERS = frozenset({"content-type", "content-disposition", "location", "retry-after"})


def wanted(scope: Scope) -> bool:
    return (scope["type"] == "http" and scope.get("method") in MUTATING
            and str(scope.get("path", "")).startswith("/api/v1/")
            and (scope.get("state") or {}).get("context") is not None)


def the_key(headers: Headers) -> str | None:
    raw = headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput("invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_KEY} printable characters",
                           {"field": "Idempotency-Key"})
    return key


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, wait: float = 60.0, poll: float = 0.05) -> None:
        self.app, self.wait, self.poll = app, wait, poll

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not wanted(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            key = the_key(headers)
            if key is None:
                await self.app(scope, receive, send)
                return
            store: KeyStore = scope["app"].state.idempotency
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
                more_body = await _spool(receive, spool)
                await self._keyed(scope, receive, send, store, key, headers, spool, more_body)
        except CrmError as exc:
            await error_response(status_for(exc), exc.code, exc.message, exc.details,
                                 headers=_retry_after(exc))(scope, receive, send)

    async def _keyed(self, scope: Scope, receive: Receive, send: Send, store: KeyStore, key: str, headers: Headers,
                     spool: IO[bytes], _more: bool) -> None:
        ctx = scope["state"]["context"]
        _id = key_id(ctx.tenant_id, ctx.user_id, key)
        fingerprint = await asyncio.to_thread(
            request_hash, scope["method"], scope["path"], scope.get("query_string", b""),
            headers.get("content-type", ""), spool)
        deadline = asyncio.get_running_loop().time() + self.wait
        while True:
            now = datetime.now(UTC)
            try:
                nonce = await store.claim(_id, fingerprint, scope["method"], scope["path"], now)
                doc = None if nonce else await store.get(_id)
            except CrmError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database is down: refuse rather than risk a second effect
                log.warning("idempotency store unavailable: %r", exc)
                raise Unavailable("idempotency.unavailable", "the idempotency store does not answer; retry "
                                  "later", {"service": "gateway-db"}) from None
            if nonce:
                await self._run(scope, receive, send, store, _id, nonce, spool)
                return
            if doc is None:  # released meanwhile: claim again
                continue
            if doc.get("expires_at") and _aware(doc["expires_at"]) <= now:
                await store.release(_id, doc["nonce"])
                continue
            if doc.get("request_hash") != fingerprint:
                raise BusinessRule("idempotency.key_reused", "this Idempotency-Key was used for another request",
                                   {"field": "Idempotency-Key", "method": doc.get("method"), "path": doc.get("path")})
            if doc.get("state") == "done":
                await _replay(doc, send)
                return
            if asyncio.get_running_loop().time() >= deadline:
                raise Conflict("idempotency.in_progress", "a request with this Idempotency-Key is still running",
                               {"retry_after": 1})
            await asyncio.sleep(self.poll)

    async def _run(self, scope: Scope, receive: Receive, send: Send, store: KeyStore, _id: str, nonce: str,
                   spool: IO[bytes]) -> None:
        status = 500
        kept: list[dict[str, str]] = []
        body: bytearray | None = bytearray()

        async def capture(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
                kept.extend({"name": k.decode("latin-1"), "value": v.decode("latin-1")}
                            for k, v in message.get("headers", []) if k.decode("latin-1").lower() in KEPT_HEADERS)
            elif message["type"] == "http.response.body" and body is not None:
                body.extend(message.get("body", b""))
                if len(body) > MAX_KEPT:
                    body = None
            await send(message)

        try:
            await self.app(scope, _replaying(spool, receive), capture)
        except BaseException:
            await _quietly(store.release(_id, nonce))
            raise
        if status >= 500:
            await _quietly(store.release(_id, nonce))
            return
        await _quietly(store.finish(_id, nonce, status, kept, bytes(body) if body is not None else None))


async def _spool(receive: Receive, spool: IO[bytes]) -> bool:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        spool.write(message.get("body", b""))
        if not message.get("more_body", False):
            spool.seek(0)
            return True


def _replaying(spool: IO[bytes], receive: Receive) -> Receive:
    """The spooled body again, in chunks, then whatever the client sends (a disconnect)."""
    spool.seek(0)
    done = False

    async def again() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = spool.read(64 * 1024)
        rest = spool.read(1)
        if rest:
            spool.seek(-1, 1)
        else:
            done = True
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return again


async def _replay(doc: dict[str, Any], send: Send) -> None:
    if not doc.get("kept"):
        raise Conflict("idempotency.answer_not_kept", "the first answer to this Idempotency-Key was too large to "
                       "keep; it was answered once", {"status": doc.get("status")})
    body: bytes = bytes(doc.get("body") or b"")
    headers = [(h["name"].encode("latin-1"), h["value"].encode("latin-1")) for h in doc.get("headers") or []]
    headers += [(b"content-length", str(len(body)).encode()), (REPLAYED.encode(), b"true")]
    await send({"type": "http.response.start", "status": int(doc["status"]), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _retry_after(exc: CrmError) -> dict[str, str] | None:
    retry = exc.details.get("retry_after")
    return {"Retry-After": str(retry)} if isinstance(retry, int) else None


async def _quietly(step: Awaitable[Any]) -> None:
    try:
        await step
    except Exception as exc:  # noqa: BLE001 - the answer is already on its way
        log.warning("idempotency store write failed: %r", exc)


async def purge_loop(store: KeyStore, stop: asyncio.Event, every: float = 600.0,
                     clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    """Delete expired keys every ``every`` seconds until ``stop`` is set (a background task of
    the app's lifespan). The lifespan sets ``stop`` rather than relying on cancelling the task:
    pymongo's async driver can swallow a cancellation that lands inside an operation, and a
    loop that then went back to sleep would hold the shutdown for ``every`` seconds."""
    while not stop.is_set():
        try:
            n = await store.purge(clock())
            if n:
                log.info("purged %d expired idempotency keys", n)
        except Exception as exc:  # noqa: BLE001 - try again next round
            log.warning("idempotency purge failed: %r", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def stop_purge(task: asyncio.Task[None], stop: asyncio.Event, grace: float = 5.0) -> None:
    """End :func:`purge_loop`: set ``stop``, give a running purge ``grace`` seconds, then cancel."""
    stop.set()
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=grace)
    if task.done() and not task.cancelled() and task.exception() is not None:
        log.warning("idempotency purge ended with %r", task.exception())
