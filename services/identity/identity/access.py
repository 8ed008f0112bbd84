"""Tenants (operator), login, tokens, logout and accepting an invitation.

These calls come without a user context (the caller is not logged in yet, or is the
operator), so they name the tenant themselves and never trust a header for it."""
from __future__ import annotations

import hmac
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pymongo.errors import DuplicateKeyError

from crmkit.clock import iso
from crmkit.config import secret
from crmkit.context import CallContext
from crmkit.errors import BusinessRule, Conflict, InvalidInput, NotFound, Unauthenticated
from crmkit.nameko.kit import WorkerKit
from crmkit.outbox import Check
from identity import rules, sessions, tokens
from identity.org import new_id, token_hash
from identity.passwords import Passwords
from identity.store import Store, department_out, employee_out, mobile_key, tenant_out

log = logging.getLogger(__name__)


@dataclass
class AccessSettings:
    tokens: tokens.TokenSettings
    lock: rules.LockPolicy

    @classmethod
    def from_env(cls) -> AccessSettings:
        def num(name: str, default: float) -> float:
            raw = os.environ.get(name, "").strip()
            return float(raw) if raw else default

        return cls(
            tokens=tokens.TokenSettings.from_env(),
            lock=rules.LockPolicy(
                max_failures=int(num("LOGIN_MAX_FAILURES", 5)),
                window=timedelta(minutes=num("LOGIN_FAILURE_WINDOW_MINUTES", 15)),
                lock=timedelta(minutes=num("LOGIN_LOCK_MINUTES", 15)),
            ),
        )


def check_operator(given: Any) -> None:
    expected = secret("OPERATOR_SECRET")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthenticated("operator.unauthenticated", "operator secret missing or wrong")


# -- tenants ---------------------------------------------------------------------------
class EventKit(Protocol):
    """What creating a tenant needs of a kit: the worker's, or the operator command's
    (``identity.admin.CliKit``)."""

    def now(self) -> datetime: ...
    def event(self, type: str, data: dict[str, Any], *, tenant_id: str | None = None,
              actor_id: str | None = None) -> dict[str, Any]: ...
    def change(self, events: list[dict[str, Any]], check: Check | None = None) -> Any: ...


def create_tenant(kit: EventKit, store: Store, pw: Passwords, *, code: Any, name: Any, admin_mobile: Any,
                  admin_name: Any, admin_password: Any) -> dict[str, Any]:
    code = rules.tenant_code(code)
    tname = rules.text({"name": name}, "name", max_len=128)
    aname = rules.text({"admin_name": admin_name}, "admin_name")
    amobile = rules.mobile({"admin_mobile": admin_mobile}, "admin_mobile")
    apassword = rules.password({"admin_password": admin_password}, "admin_password")
    assert amobile is not None
    now = kit.now()
    tenant_id, root_id, admin_id = new_id(), new_id(), new_id()
    try:
        store.tenants.insert_one({"_id": tenant_id, "code": code, "name": tname, "root_dept_id": root_id,
                                  "admin_id": admin_id, "menu_grants": {}, "created_at": now})
    except DuplicateKeyError:
        raise Conflict("tenant.code_taken", "a tenant with this code exists", {"code": code}) from None
    root = {"_id": root_id, "tenant_id": tenant_id, "name": tname, "parent_id": None, "manager_id": admin_id,
            "created_at": now, "updated_at": now}
    admin = {"_id": admin_id, "tenant_id": tenant_id, "name": aname, "mobile": amobile,
             "mobile_key": mobile_key(tenant_id, amobile), "email": None, "language": None,
             "roles": [rules.TENANT_ADMIN], "dept_ids": [root_id], "primary_dept_id": root_id,
             "status": rules.JOINED, "disabled": False, "password_hash": pw.hash(apassword), "tv": 1,
             "created_at": now, "updated_at": now}
    events = [
        kit.event("tenant.created", {"tenant_id": tenant_id, "code": code, "name": tname, "admin_id": admin_id},
                  tenant_id=tenant_id, actor_id="operator"),
        kit.event("department.created", {**department_out(root), "department_id": root_id},
                  tenant_id=tenant_id, actor_id="operator"),
        kit.event("employee.created", {**employee_out(admin), "employee_id": admin_id},
                  tenant_id=tenant_id, actor_id="operator"),
        kit.event("employee.joined", {**employee_out(admin), "employee_id": admin_id},
                  tenant_id=tenant_id, actor_id="operator"),
    ]
    with kit.change(events, Check("employees", {"_id": admin_id})):
        store.departments.insert_one(root)
        store.employees.insert_one(admin)
    return {"tenant": {"id": tenant_id, "code": code, "name": tname}, "tenant_id": tenant_id,
            "root_dept_id": root_id, "admin_id": admin_id}


def tenant_by_code(store: Store, code: Any) -> dict[str, Any]:
    doc = store.tenant_by_code(code) if isinstance(code, str) else None
    if doc is None:
        raise NotFound("tenant.not_found", "no such tenant", {"code": code})
    return {**tenant_out(doc), "root_dept_id": doc["root_dept_id"], "admin_id": doc.get("admin_id")}


# -- login -----------------------------------------------------------------------------------
def _failures(store: Store, doc: dict[str, Any]) -> list[Any]:
    since = doc.get("failures_since")
    rows = store.login_failures.find({"employee_id": doc["_id"]}, {"at": 1})
    return [r["at"] for r in rows if since is None or r["at"] > since]


def _tokens(kit: WorkerKit, settings: AccessSettings, doc: dict[str, Any], bind_device: bool,
            family: str | None = None) -> dict[str, Any]:
    now = kit.now()
    claims = {"tenant_id": doc["tenant_id"], "user_id": doc["_id"], "roles": list(doc.get("roles") or []),
              "tv": int(doc.get("tv") or 1), "now": now}
    access, ttl = tokens.issue(settings.tokens, tokens.ACCESS, **claims, dept_ids=list(doc.get("dept_ids") or []),
                               name=str(doc.get("name") or ""), av=int(doc.get("av") or 0))
    out: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": ttl}
    if bind_device:  # a new login starts a new family; a refresh continues its own
        device, dttl = tokens.issue(settings.tokens, tokens.DEVICE, **claims, family=family)
        out["device_token"] = device
        out["device_token_expires_in"] = dttl
    return out


def login(kit: WorkerKit, store: Store, pw: Passwords, settings: AccessSettings, *, tenant_code: Any, mobile: Any,
          password: Any, bind_device: Any = False) -> dict[str, Any]:
    data = {"tenant_code": tenant_code, "mobile": mobile, "password": password, "bind_device": bind_device}
    for field in ("tenant_code", "mobile", "password"):
        if data[field] is None or data[field] == "":
            raise InvalidInput("validation.required", f"{field} is required", {"field": field})
        if not isinstance(data[field], str):
            raise InvalidInput("validation.type", f"{field} must be a string", {"field": field})
    bind = rules.flag(data, "bind_device")
    if len(password) > rules.PASSWORD_MAX:
        raise InvalidInput("password.too_long", "password too long", {"field": "password"})
    tenant = store.tenant_by_code(tenant_code)
    try:
        mob = rules.normalise_mobile(mobile)
    except InvalidInput:
        mob = None
    doc = store.employee_by_mobile(tenant["_id"], mob) if tenant is not None and mob else None
    if doc is None:
        raise Unauthenticated("login.unknown_account", "no employee account with this mobile in this organisation")
    now = kit.now()
    policy = settings.lock
    until = doc.get("locked_until")
    if until is not None and now < until:
        raise Unauthenticated("login.locked", "too many failed logins; try again later",
                              {"locked_until": iso(until)})
    if not doc.get("password_hash"):
        raise Unauthenticated("login.not_joined", "this account has not joined the organisation yet",
                              {"status": doc["status"]})
    if not pw.verify(doc["password_hash"], password):
        store.login_failures.insert_one({"_id": new_id(), "tenant_id": doc["tenant_id"],
                                         "employee_id": doc["_id"], "at": now})
        failures = _failures(store, doc)
        locked = rules.locked_until(failures, now, policy)
        if locked is not None:
            store.set_employee(doc["_id"], {"locked_until": locked, "failures_since": now, "has_failures": False})
            raise Unauthenticated("login.locked", "too many failed logins; the account is locked for a while",
                                  {"locked_until": iso(locked)})
        if not doc.get("has_failures"):
            store.set_employee(doc["_id"], {"has_failures": True})
        raise Unauthenticated("login.wrong_password", "wrong password",
                              {"remaining_attempts": rules.remaining_attempts(failures, now, policy)})
    refusal = rules.login_refusal(doc["status"], bool(doc.get("disabled")))
    if refusal is not None:
        raise Unauthenticated(refusal[0], refusal[1])
    fields: dict[str, Any] = {"last_login_at": now}
    if doc.get("locked_until") is not None or doc.get("has_failures"):
        fields.update({"failures_since": now, "locked_until": None, "has_failures": False})
    if pw.needs_rehash(doc["password_hash"]):
        fields["password_hash"] = pw.hash(password)
    store.set_employee(doc["_id"], fields)
    out = _tokens(kit, settings, doc, bind)
    out["user"] = employee_out(doc)
    return out


def _active_from_claims(store: Store, claims: dict[str, Any]) -> dict[str, Any]:
    doc = store.employee(str(claims["tid"]), claims["sub"])
    if doc is None or int(doc.get("tv") or 1) != int(claims["tv"]):
        raise Unauthenticated("token.revoked", "token revoked")
    refusal = rules.login_refusal(doc["status"], bool(doc.get("disabled")))
    if refusal is not None:
        raise Unauthenticated("token.revoked", "token revoked", {"reason": refusal[0]})
    return doc


def refresh(kit: WorkerKit, store: Store, settings: AccessSettings, device_token: Any) -> dict[str, Any]:
    """A new access token and a new device token; the presented device token is used up.

    Refresh-token rotation (OAuth 2.0 Security BCP §4.14): the insert of the token's ``jti``
    into ``device_rotations`` (unique ``_id``) *is* the rotation, so of two refreshes with one
    token exactly one wins even on FerretDB, whose conditional updates are not atomic. A token
    presented after it was used up means it leaked (or the client raced itself): the whole
    family — every device token descended from that login — is revoked."""
    now = kit.now()
    claims = tokens.decode(settings.tokens, device_token, tokens.DEVICE, now)
    doc = _active_from_claims(store, claims)
    family, jti = tokens.family_of(claims), str(claims.get("jti") or "")
    if not jti:
        raise Unauthenticated("token.invalid", "token invalid")
    if store.family_revoked(family):
        raise Unauthenticated("token.revoked", "this device's sign-in was revoked; sign in again",
                              {"reason": "device_token_reused"})
    try:
        store.device_rotations.insert_one({"_id": jti, "family": family, "tenant_id": doc["tenant_id"],
                                           "employee_id": doc["_id"], "at": now})
    except DuplicateKeyError:
        store.revoke_family(family, doc, now)
        log.warning("device token reused: family %s of employee %s revoked", family, doc["_id"])
        raise Unauthenticated("token.reused", "this device token was already used; every sign-in of this device "
                              "is revoked — sign in again") from None
    return _tokens(kit, settings, doc, True, family=family)


def authenticate(kit: WorkerKit, store: Store, settings: AccessSettings, token: Any) -> dict[str, Any]:
    """Who an access token belongs to — checked against the database, so a bumped token
    version (logout, disable, delete, leave) fails at once. The gateway asks only while its
    revocation set is not loaded (or for a token from before access versions)."""
    claims = tokens.decode(settings.tokens, token, tokens.ACCESS, kit.now())
    doc = _active_from_claims(store, claims)
    return {"tenant_id": doc["tenant_id"], "user_id": doc["_id"], "roles": list(doc.get("roles") or []),
            "dept_ids": list(doc.get("dept_ids") or []), "name": doc["name"]}


def logout(kit: WorkerKit, store: Store, ctx: CallContext) -> dict[str, Any]:
    doc = store.employee(ctx.tenant_id, ctx.user_id)
    if doc is None:
        raise NotFound("employee.not_found", "no such employee")
    ev, fields = sessions.prepare(kit, doc, {"updated_at": kit.now()}, reason="logout", bump_tv=True)
    with kit.change([ev], Check("employees", {"_id": doc["_id"], "av": sessions.av_after(ev)})):
        store.set_employee(doc["_id"], fields, bump_tv=True, bump_av=True)
    sessions.publish_now(kit, [ev])
    return {"logged_out": True}


def revocations(kit: WorkerKit, store: Store, ctx: CallContext, after: Any = None, limit: Any = 500
                ) -> dict[str, Any]:
    return sessions.revocations(kit, store, ctx, after, limit)


def housekeeping(kit: WorkerKit, store: Store, settings: AccessSettings) -> int:
    """The hourly purge: login failures and idempotency answers of the last two days are kept,
    device rotations and revoked families as long as a device token of theirs could be valid."""
    return store.purge(kit.now(), device_keep=settings.tokens.device_ttl + timedelta(days=1))


# -- joining ---------------------------------------------------------------------------------
_NO_INVITATION_HASH = token_hash("no invitation has this token")

def accept_invitation(kit: WorkerKit, store: Store, pw: Passwords, *, invitation_id: Any, token: Any,
                      password: Any) -> dict[str, Any]:
    if not isinstance(token, str) or not token:
        raise InvalidInput("validation.required", "token is required", {"field": "token"})
    new_password = rules.password({"password": password})
    # not an existence oracle: an unknown id and a known id with a wrong token take the same
    # path (one _id lookup, one hash, one constant-time compare) and get the same answer
    known = isinstance(invitation_id, str) and 0 < len(invitation_id) <= 200
    inv = store.invitations.find_one({"_id": invitation_id}) if known else None
    expected = inv["token_hash"] if inv is not None else _NO_INVITATION_HASH
    if not hmac.compare_digest(expected, token_hash(token)) or inv is None:
        raise NotFound("invitation.not_found", "no such invitation, or the token does not belong to it")
    now = kit.now()
    doc = store.employee(inv["tenant_id"], inv["employee_id"])
    if doc is None or doc["status"] == rules.DELETED:
        raise NotFound("invitation.not_found", "no such invitation")
    if store.invitation_uses.find_one({"_id": inv["_id"]}) is not None or doc["status"] == rules.JOINED:
        raise Conflict("invitation.used", "this invitation has already been accepted")
    if doc.get("invitation_id") != inv["_id"] or doc["status"] != rules.PENDING:
        raise Conflict("invitation.superseded", "this invitation is no longer valid; ask for a new one")
    if now >= inv["expires_at"]:
        raise BusinessRule("invitation.expired", "the invitation has expired; ask for a new one",
                           {"expired_at": iso(inv["expires_at"])})
    hashed = pw.hash(new_password)
    try:  # one-time: the insert that wins is the acceptance
        store.invitation_uses.insert_one({"_id": inv["_id"], "employee_id": doc["_id"], "at": now})
    except DuplicateKeyError:
        raise Conflict("invitation.used", "this invitation has already been accepted") from None
    fields = {"status": rules.JOINED, "password_hash": hashed, "joined_at": now, "updated_at": now,
              "failures_since": now, "locked_until": None}
    new = {**doc, **fields}
    ev = kit.event("employee.joined", {**employee_out(new), "employee_id": doc["_id"]},
                   tenant_id=doc["tenant_id"], actor_id=doc["_id"])
    access_ev, fields = sessions.prepare(kit, doc, fields, reason="joined", bump_tv=True)
    with kit.change([ev, access_ev], Check("employees", {"_id": doc["_id"], "status": rules.JOINED})):
        store.set_employee(doc["_id"], fields, bump_tv=True, bump_av=True)
    sessions.publish_now(kit, [access_ev])
    tenant = store.tenant(doc["tenant_id"]) or {}
    return {"employee_id": doc["_id"], "status": rules.JOINED, "tenant_code": tenant.get("code"),
            "mobile": doc["mobile"]}
