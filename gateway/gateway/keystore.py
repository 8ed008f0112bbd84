"""The gateway's own small database (``<MONGO_DB_PREFIX>gateway``): one document per
Idempotency-Key, claimed by an insert under a unique ``_id`` (FerretDB's conditional
updates are not atomic; inserts under unique keys are, on MongoDB and FerretDB alike).

``_id`` = ``"<tenant>:<user>:<sha256(key)>"`` — keys are scoped to the caller. A document is
``running`` while its request runs, then ``done`` with the answer (status, headers, body).
Expired documents are purged by :meth:`KeyStore.purge` (no TTL indexes on FerretDB).
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError


def key_id(tenant_id: str, user_id: str, key: str) -> str:
    return f"{tenant_id}:{user_id}:{hashlib.sha256(key.encode()).hexdigest()}"


class KeyStore:
    def __init__(self, uri: str, db_name: str, ttl: timedelta) -> None:
        self.uri, self.db_name, self.ttl = uri, db_name, ttl
        self._client: AsyncMongoClient[dict[str, Any]] | None = None

    async def open(self, warm_up: float = 2.0) -> None:
        """Create the client and give it up to ``warm_up`` seconds to reach the server (so the
        first request and the first readiness probe find a connection); a database that is down
        does not stop the gateway from starting — keyed requests then get 503 and ``/readyz`` says so."""
        self._client = AsyncMongoClient(self.uri, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000,
                                        socketTimeoutMS=15000, tz_aware=True)
        first = asyncio.ensure_future(self.ping())
        await asyncio.wait({first}, timeout=warm_up)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def keys(self) -> Any:
        if self._client is None:
            raise RuntimeError("the idempotency store is not open (the app's lifespan opens it)")
        return self._client[self.db_name]["idempotency_keys"]

    async def claim(self, _id: str, request_hash: str, method: str, path: str, now: datetime) -> str | None:
        """Insert the running claim; its nonce when this caller won, None when the key exists."""
        nonce = secrets.token_hex(8)
        try:
            await self.keys.insert_one({
                "_id": _id, "state": "running", "nonce": nonce, "request_hash": request_hash, "method": method,
                "path": path, "created_at": now, "expires_at": now + self.ttl,
            })
        except DuplicateKeyError:
            return None
        return nonce

    async def get(self, _id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.keys.find_one({"_id": _id})
        return doc

    async def finish(self, _id: str, nonce: str, status: int, headers: list[dict[str, str]],
                     body: bytes | None) -> None:
        await self.keys.update_one({"_id": _id, "nonce": nonce}, {"$set": {
            "state": "done", "status": status, "headers": headers, "body": body, "kept": body is not None,
            "done_at": datetime.now(UTC)}})

    async def release(self, _id: str, nonce: str) -> None:
        """Forget a claim whose request failed (5xx or an error): a retry may run again."""
        await self.keys.delete_one({"_id": _id, "nonce": nonce})

    async def purge(self, now: datetime) -> int:
        result = await self.keys.delete_many({"expires_at": {"$lt": now}})
        return int(result.deleted_count)

    async def ping(self) -> bool:
        try:
            await self.keys.database.command("ping")
        except Exception:  # noqa: BLE001 - a probe reports, never raises
            return False
        return True
