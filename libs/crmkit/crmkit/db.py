"""One MongoDB client per process and one database per service.

The server may be real MongoDB or FerretDB 1.x (see docs/decisions). Code that must
behave differently asks :func:`is_ferretdb` once; everything else is written for both.
"""
from __future__ import annotations

import threading
from typing import Any

import pymongo
from pymongo.database import Database

from crmkit import config, dbtrace

_lock = threading.Lock()
_clients: dict[str, pymongo.MongoClient[Any]] = {}


def client(uri: str | None = None) -> pymongo.MongoClient[Any]:
    uri = uri or config.mongo_uri()
    with _lock:
        c = _clients.get(uri)
        if c is None:
            dbtrace.install()  # a client sees only the listeners registered before it exists
            c = pymongo.MongoClient(
                uri, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, socketTimeoutMS=30000,
                maxPoolSize=50, tz_aware=True, uuidRepresentation="standard",
            )
            _clients[uri] = c
        return c


def database_name(service: str) -> str:
    return f"{config.db_prefix()}{service}"


def service_db(service: str, uri: str | None = None) -> Database[Any]:
    return client(uri)[database_name(service)]


def close_all() -> None:
    with _lock:
        for c in _clients.values():
            c.close()
        _clients.clear()


def is_ferretdb(db: Database[Any]) -> bool:
    info: dict[str, Any] = db.client.admin.command("buildInfo")
    return "ferretdbVersion" in info or "ferretdb" in str(info.get("version", "")).lower()


def ping(db: Database[Any]) -> bool:
    try:
        db.command("ping")
        return True
    except Exception:
        return False
