"""Persistence of the identity service (pymongo; works on MongoDB and FerretDB 1.x).

Collections (all documents carry ``tenant_id``; every query filters by it):

* ``tenants``      ``{_id, code (unique), name, menu_grants: {menu: [dept_id]}, created_at}``
* ``departments``  ``{_id, tenant_id, name, parent_id, manager_id, created_at, updated_at}``
* ``employees``    ``{_id, tenant_id, name, mobile, mobile_key (unique while not deleted), email,
  language, roles, dept_ids, primary_dept_id, status, disabled, password_hash, tv, av,
  access_until, invitation_id, failures_since, locked_until, created_at, updated_at}`` — ``tv``
  token version, ``av`` access version, ``access_until`` until when the last access change
  must be remembered (identity/sessions.py)
* ``invitations``  ``{_id, tenant_id, employee_id, mobile, token_hash, expires_at, created_at}``
* ``invitation_uses`` ``{_id: invitation_id}`` — the insert that wins is the acceptance
* ``login_failures`` ``{_id, tenant_id, employee_id, at}``
* ``idempotency``  ``{_id: "<tenant>:<user>:<op>:<key>", result}``
* ``device_rotations`` ``{_id: jti of a used-up device token, family, tenant_id, employee_id, at}`` — the
  insert that wins is the rotation
* ``device_families`` ``{_id: family (login) id, tenant_id, employee_id, revoked_at}`` — revoked families

Uniqueness (tenant code, mobile per tenant, one acceptance per invitation) is enforced by
unique indexes — inserts, never read-then-write — because FerretDB's conditional updates
are not atomic.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.db import service_db
from crmkit.nameko.dependency import Dependency
from identity import rules

#: sorts before every real time (a row that has neither time)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- the tenant's organisation, as ``me`` shows it ----------------------------------------------
# ``me`` is on the path of every screen; it shows the tenant, the menus and the departments the
# caller manages, from the tenant document and the department tree. A short in-process cache
# keeps those two reads off that path: a write in this process (department, menu grants)
# replaces the entry at once, other replicas see it within ORG_TTL seconds. Only ``me`` reads
# it; every permission check (``menu_allowed``, visibility, the admin scope) reads fresh.
ORG_TTL = float(os.environ.get("IDENTITY_ORG_TTL", "5"))
ORG_CACHE_MAX = 10_000  # tenants kept; past it the cache starts over


@dataclass(frozen=True)
class Org:
    tenant: dict[str, Any]  # the tenant document ({} when there is none)
    parents: dict[str, str | None]  # department -> parent
    managers: dict[str, str | None]  # department -> manager


_org_cache: dict[tuple[str, str], tuple[float, Org]] = {}
#: bumped by every write in this process: a read that began before a write must not put its
#: older answer into the cache after the write did (greenlets interleave)
_org_generation: dict[tuple[str, str], int] = {}


def org(store: Store, tenant_id: str) -> Org:
    """The tenant document and its department tree: two tenant-keyed reads (the tenant by
    ``_id``, the departments by the ``tenant_id`` index), at most ORG_TTL seconds old."""
    key = (store.name, tenant_id)
    hit = _org_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < ORG_TTL:
        return hit[1]
    generation = _org_generation.get(key, 0)
    tenant = store.tenant(tenant_id) or {}
    parents: dict[str, str | None] = {}
    managers: dict[str, str | None] = {}
    for d in store.departments.find({"tenant_id": tenant_id}, {"parent_id": 1, "manager_id": 1}):
        parents[d["_id"]], managers[d["_id"]] = d.get("parent_id"), d.get("manager_id")
    out = Org(tenant, parents, managers)
    if _org_generation.get(key, 0) == generation:
        if len(_org_cache) >= ORG_CACHE_MAX:
            _org_cache.clear()
        _org_cache[key] = (time.monotonic(), out)
    return out


def forget_org(store: Store, tenant_id: str) -> None:
    """After a write of the tenant's departments or menu grants: the next ``org`` reads again."""
    key = (store.name, tenant_id)
    _org_generation[key] = _org_generation.get(key, 0) + 1
    _org_cache.pop(key, None)


def mobile_key(tenant_id: str, mobile: str) -> str:
    return f"{tenant_id}:{mobile}"


def released_mobile_key(employee_id: str) -> str:
    return f"deleted:{employee_id}"


def employee_out(doc: dict[str, Any]) -> dict[str, Any]:
    """The public shape of an employee (never the password hash)."""
    return {
        "id": doc["_id"],
        "tenant_id": doc["tenant_id"],
        "name": doc["name"],
        "mobile": doc["mobile"],
        "email": doc.get("email"),
        "language": doc.get("language") or "zh-CN",  # what the apps show
        "preferred_language": doc.get("language"),    # what the employee chose (None: not chosen)
        "roles": list(doc.get("roles") or []),
        "dept_ids": list(doc.get("dept_ids") or []),
        "primary_dept_id": doc.get("primary_dept_id"),
        "status": rules.public_status(doc["status"], bool(doc.get("disabled"))),
        "membership": doc["status"],
        "disabled": bool(doc.get("disabled")),
        "created_at": _iso(doc.get("created_at")),
        "updated_at": _iso(doc.get("updated_at")),
    }


def department_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "tenant_id": doc["tenant_id"],
        "name": doc["name"],
        "parent_id": doc.get("parent_id"),
        "manager_id": doc.get("manager_id"),
        "created_at": _iso(doc.get("created_at")),
        "updated_at": _iso(doc.get("updated_at")),
    }


def tenant_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "code": doc["code"], "name": doc["name"]}


def _iso(value: datetime | None) -> str | None:
    return iso(value) if value else None


class Store:
    """The identity database: one typed attribute per collection (see the module doc) and the
    queries more than one use case asks; the use cases take the store (never ``kit.db``)."""

    def __init__(self, db: Database[Any]):
        self.db = db
        self.name = db.name
        self.tenants: Collection[Any] = db["tenants"]
        self.departments: Collection[Any] = db["departments"]
        self.employees: Collection[Any] = db["employees"]
        self.invitations: Collection[Any] = db["invitations"]
        self.invitation_uses: Collection[Any] = db["invitation_uses"]
        self.login_failures: Collection[Any] = db["login_failures"]
        self.idempotency: Collection[Any] = db["idempotency"]
        self.device_rotations: Collection[Any] = db["device_rotations"]
        self.device_families: Collection[Any] = db["device_families"]

    def ensure_indexes(self) -> None:
        """The only place identity creates indexes (the ``_id`` keys need none)."""
        self.tenants.create_index([("code", ASCENDING)], unique=True)
        self.departments.create_index([("tenant_id", ASCENDING)])
        self.employees.create_index([("mobile_key", ASCENDING)], unique=True)
        self.employees.create_index([("tenant_id", ASCENDING)])
        self.employees.create_index([("tenant_id", ASCENDING), ("mobile", ASCENDING)])
        self.employees.create_index([("access_until", ASCENDING)])  # identity.revocations (sessions.py)
        self.invitations.create_index([("employee_id", ASCENDING)])
        self.login_failures.create_index([("employee_id", ASCENDING)])

    def purge(self, now: datetime, keep: timedelta = timedelta(days=2),
              device_keep: timedelta = timedelta(days=400)) -> int:
        """Forget login failures and idempotency answers older than ``keep`` (no TTL indexes
        on FerretDB, so a timer does it)."""
        cutoff = now - keep
        n = self.login_failures.delete_many({"at": {"$lt": cutoff}}).deleted_count
        n += self.idempotency.delete_many({"at": {"$lt": cutoff}}).deleted_count
        # rotations and revocations matter only while a token of theirs could still be valid
        device_cutoff = now - device_keep
        n += self.device_rotations.delete_many({"at": {"$lt": device_cutoff}}).deleted_count
        n += self.device_families.delete_many({"revoked_at": {"$lt": device_cutoff}}).deleted_count
        return n

    # -- tenants --------------------------------------------------------------------------
    def tenant(self, tenant_id: str) -> dict[str, Any] | None:
        return self.tenants.find_one({"_id": tenant_id})

    def tenant_by_code(self, code: str) -> dict[str, Any] | None:
        return self.tenants.find_one({"code": code})

    # -- departments ----------------------------------------------------------------------
    def departments_of(self, tenant_id: str) -> list[dict[str, Any]]:
        return list(self.departments.find({"tenant_id": tenant_id}))

    def department(self, tenant_id: str, dept_id: Any) -> dict[str, Any] | None:
        if not isinstance(dept_id, str):
            return None
        return self.departments.find_one({"_id": dept_id, "tenant_id": tenant_id})

    def parents(self, tenant_id: str) -> dict[str, str | None]:
        return {d["_id"]: d.get("parent_id") for d in
                self.departments.find({"tenant_id": tenant_id}, {"parent_id": 1})}

    def managers(self, tenant_id: str) -> dict[str, str | None]:
        return {d["_id"]: d.get("manager_id") for d in
                self.departments.find({"tenant_id": tenant_id}, {"manager_id": 1})}

    # -- employees ------------------------------------------------------------------------
    def employee(self, tenant_id: str, employee_id: Any) -> dict[str, Any] | None:
        if not isinstance(employee_id, str):
            return None
        doc = self.employees.find_one({"_id": employee_id})
        return doc if doc is not None and doc["tenant_id"] == tenant_id else None

    def employees_of(self, tenant_id: str, include_gone: bool = False) -> list[dict[str, Any]]:
        rows = self.employees.find({"tenant_id": tenant_id}, {"password_hash": 0})
        return [r for r in rows if include_gone or r["status"] != rules.DELETED]

    def with_mobile(self, tenant_id: str, mobile: str) -> list[dict[str, Any]]:
        """Every employee record of the tenant with this mobile (index ``(tenant_id, mobile)``)."""
        return list(self.employees.find({"tenant_id": tenant_id, "mobile": mobile}))

    def employee_by_mobile(self, tenant_id: str, mobile: str) -> dict[str, Any] | None:
        """The current holder of a mobile, else the most recently deleted one."""
        rows = self.with_mobile(tenant_id, mobile)
        live = [r for r in rows if r["status"] != rules.DELETED]
        if live:
            return live[0]
        rows.sort(key=lambda r: r.get("updated_at") or r.get("created_at") or _EPOCH, reverse=True)
        return rows[0] if rows else None

    def active_members(self, tenant_id: str) -> list[dict[str, Any]]:
        """Employees still in the organisation (not left, not deleted)."""
        return [r for r in self.employees_of(tenant_id) if r["status"] not in (rules.LEFT, rules.DELETED)]

    def access_changes(self, since: datetime, after: str | None, limit: int) -> list[dict[str, Any]]:
        """Employees whose ``access_until`` lies after ``since``, in ``_id`` order from ``after``
        (index ``access_until``; identity.revocations, sessions.py)."""
        flt: dict[str, Any] = {"access_until": {"$gt": since}}
        if after:
            flt["_id"] = {"$gt": after}
        return list(self.employees.find(flt, {"password_hash": 0}).sort("_id", 1).limit(limit))

    # -- device token families ----------------------------------------------------------
    def family_revoked(self, family: str) -> bool:
        return self.device_families.find_one({"_id": family}, {"_id": 1}) is not None

    def revoke_family(self, family: str, employee: dict[str, Any], now: datetime) -> None:
        try:  # insert-only: concurrent revocations of one family all end in the same row
            self.device_families.insert_one({"_id": family, "tenant_id": employee["tenant_id"],
                                             "employee_id": employee["_id"], "revoked_at": now})
        except DuplicateKeyError:
            pass

    def set_employee(self, employee_id: str, fields: dict[str, Any], bump_tv: bool = False,
                     bump_av: bool = False) -> None:
        """``bump_tv``: every token issued so far is revoked; ``bump_av``: what tokens carry (or the
        right to hold one) changed — the caller emits ``employee.access_changed`` (sessions.py)."""
        update: dict[str, Any] = {"$set": fields}
        inc = {**({"tv": 1} if bump_tv else {}), **({"av": 1} if bump_av else {})}
        if inc:
            update["$inc"] = inc
        self.employees.update_one({"_id": employee_id}, update)


def open_store() -> Store:
    """The identity service's database (``MONGO_URI``, ``MONGO_DB_PREFIX``): for the service's
    provider and the operator command (identity.admin)."""
    return Store(service_db("identity"))


def ensure_indexes(db: Database[Any]) -> None:
    """For the tests and the benchmarks, which hold a bare database."""
    Store(db).ensure_indexes()


class IdentityStore(Dependency[Store]):
    """Identity's persistence: the database in ``setup``, the indexes at start."""

    def setup(self) -> None:
        self.store = open_store()

    def start(self) -> None:
        self.store.ensure_indexes()

    def get_dependency(self, worker_ctx: Any) -> Store:
        return self.store
