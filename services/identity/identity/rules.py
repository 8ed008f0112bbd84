"""Pure identity rules: roles, the permission matrix, the department tree, the lockout
policy, supervisors and input validation. No I/O; every function is deterministic."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from crmkit.errors import BusinessRule, Forbidden, InvalidInput

TENANT_ADMIN = "tenant_admin"
DEPT_ADMIN = "dept_admin"
ALL_CUSTOMERS = "all_customers"
SUPPORT = "support"
EMPLOYEE = "employee"
ROLES: tuple[str, ...] = (TENANT_ADMIN, DEPT_ADMIN, ALL_CUSTOMERS, SUPPORT, EMPLOYEE)
#: roles a department admin may hand out inside their own subtree
DEPT_ADMIN_GRANTABLE = frozenset({EMPLOYEE, SUPPORT, DEPT_ADMIN})

#: membership states (加入组织): created → pending (invited) → joined; left; deleted
CREATED, PENDING, JOINED, LEFT, DELETED = "created", "pending", "joined", "left", "deleted"
INVITABLE = frozenset({CREATED, PENDING, LEFT})

MENUS: tuple[str, ...] = ("customer_visits",)
LANGUAGES: tuple[str, ...] = ("zh-CN", "en")

NAME_MAX = 64
PASSWORD_MIN = 8
PASSWORD_MAX = 128
TENANT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
_MOBILE = re.compile(r"^\+?\d{6,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


# -- permission matrix ---------------------------------------------------------------
#: action -> roles that may do it at all (scope is checked separately)
MATRIX: dict[str, frozenset[str]] = {
    "department.read": frozenset(ROLES),
    "department.write": frozenset({TENANT_ADMIN}),
    "employee.read": frozenset(ROLES),
    "employee.write": frozenset({TENANT_ADMIN, DEPT_ADMIN}),
    "menu.manage": frozenset({TENANT_ADMIN}),
}


def allowed(roles: Iterable[str], action: str) -> bool:
    return bool(set(roles) & MATRIX[action])


def require(roles: Iterable[str], action: str) -> None:
    if not allowed(roles, action):
        raise Forbidden("permission.denied", f"your roles may not {action}", {"action": action})


# -- department tree -----------------------------------------------------------------
def ancestors(dept_id: str, parents: Mapping[str, str | None]) -> list[str]:
    """``dept_id``'s ancestors, nearest first (stops on a corrupt cycle)."""
    out: list[str] = []
    seen = {dept_id}
    cur = parents.get(dept_id)
    while cur is not None and cur not in seen:
        out.append(cur)
        seen.add(cur)
        cur = parents.get(cur)
    return out


def subtree(root_ids: Iterable[str], parents: Mapping[str, str | None]) -> set[str]:
    """Every department in the subtrees rooted at ``root_ids`` (roots included)."""
    children: dict[str, list[str]] = {}
    for d, p in parents.items():
        if p is not None:
            children.setdefault(p, []).append(d)
    out: set[str] = set()
    stack = [r for r in root_ids if r in parents]
    while stack:
        d = stack.pop()
        if d in out:
            continue
        out.add(d)
        stack.extend(children.get(d, ()))
    return out


def would_cycle(dept_id: str, new_parent_id: str, parents: Mapping[str, str | None]) -> bool:
    """Moving ``dept_id`` under ``new_parent_id`` makes a cycle when the new parent is the
    department itself or one of its descendants."""
    return new_parent_id == dept_id or dept_id in ancestors(new_parent_id, parents)


def check_move(dept_id: str, new_parent_id: str, parents: Mapping[str, str | None]) -> None:
    if would_cycle(dept_id, new_parent_id, parents):
        raise InvalidInput("department.cycle", "a department cannot move under itself or its own descendant",
                           {"department_id": dept_id, "parent_id": new_parent_id})


def build_tree(depts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nest flat department dicts (``id``, ``parent_id``) into ``children`` lists, sorted by name."""
    nodes = {d["id"]: {**d, "children": []} for d in depts}
    roots: list[dict[str, Any]] = []
    for d in nodes.values():
        parent = nodes.get(d["parent_id"]) if d.get("parent_id") else None
        (parent["children"] if parent else roots).append(d)
    for d in nodes.values():
        d["children"].sort(key=lambda x: x["name"])
    roots.sort(key=lambda x: x["name"])
    return roots


# -- supervisors and departure ---------------------------------------------------------
def supervisor(employee_id: str, primary_dept_id: str | None, parents: Mapping[str, str | None],
               managers: Mapping[str, str | None]) -> str | None:
    """The manager of the primary department; when the employee manages it themselves,
    the nearest ancestor's manager who is someone else; None when there is nobody.
    (The seed system picks a random supervisor among several; we pick deterministically.)"""
    if not primary_dept_id:
        return None
    for d in [primary_dept_id, *ancestors(primary_dept_id, parents)]:
        m = managers.get(d)
        if m is None:
            return None  # no manager here: nobody to hand over to
        if m != employee_id:
            return m
    return None


def dept_admin_scope(dept_ids: Iterable[str], managed_ids: Iterable[str],
                     parents: Mapping[str, str | None]) -> set[str]:
    """Departments a department admin manages: the subtrees of the departments they
    belong to or manage."""
    return subtree([*dept_ids, *managed_ids], parents)


# -- lockout -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LockPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


def locked_until(failures: Iterable[datetime], now: datetime, policy: LockPolicy) -> datetime | None:
    """When the account is locked at ``now``, until when; else None.

    ``max_failures`` failures within ``window`` lock the account for ``lock``; failures
    during a lock do not count; counting starts afresh after a lock ends."""
    window: list[datetime] = []
    lock_end: datetime | None = None
    for t in sorted(failures):
        if lock_end is not None:
            if t < lock_end:
                continue
            lock_end = None
            window = []
        window = [x for x in window if t - x < policy.window] + [t]
        if len(window) >= policy.max_failures:
            lock_end = t + policy.lock
            window = []
    return lock_end if lock_end is not None and now < lock_end else None


def remaining_attempts(failures: Iterable[datetime], now: datetime, policy: LockPolicy) -> int:
    recent = [t for t in failures if now - t < policy.window]
    return max(0, policy.max_failures - len(recent))


def login_refusal(status: str, disabled: bool) -> tuple[str, str] | None:
    """Why an employee whose password matched may not log in (code, message), or None."""
    if status in (LEFT, DELETED):
        return "login.left", "this account has left the organisation"
    if disabled:
        return "login.disabled", "this account is disabled"
    if status != JOINED:
        return "login.not_joined", "this account has not joined the organisation yet"
    return None


def public_status(status: str, disabled: bool) -> str:
    return "disabled" if disabled and status not in (LEFT, DELETED) else status


# -- input validation -----------------------------------------------------------------
def _field(data: Mapping[str, Any], name: str, required: bool) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise InvalidInput("validation.required", f"{name} is required", {"field": name})
        return None
    return data[name]


def text(data: Mapping[str, Any], name: str, *, required: bool = True, max_len: int = NAME_MAX) -> str | None:
    value = _field(data, name, required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("validation.type", f"{name} must be a string", {"field": name})
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise InvalidInput("validation.required", f"{name} must not be empty", {"field": name})
    if len(value) > max_len:
        raise InvalidInput("validation.too_long", f"{name} is longer than {max_len} characters",
                           {"field": name, "max": max_len})
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise InvalidInput("validation.characters", f"{name} contains control characters", {"field": name})
    return value


def ident(data: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = _field(data, name, required)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidInput("validation.type", f"{name} must be an id string", {"field": name})
    return value


def flag(data: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidInput("validation.type", f"{name} must be a boolean", {"field": name})
    return value


def normalise_mobile(value: Any, name: str = "mobile") -> str:
    if not isinstance(value, str):
        raise InvalidInput("validation.type", f"{name} must be a string", {"field": name})
    m = re.sub(r"[\s\-()（）]", "", value)
    if m.startswith("0086"):
        m = m[4:]
    elif m.startswith("+86"):
        m = m[3:]
    if not _MOBILE.match(m):
        raise InvalidInput("validation.mobile", f"{name} is not a phone number", {"field": name})
    return m


def mobile(data: Mapping[str, Any], name: str = "mobile", *, required: bool = True) -> str | None:
    value = _field(data, name, required)
    return None if value is None else normalise_mobile(value, name)


def email(data: Mapping[str, Any], name: str = "email") -> str | None:
    value = _field(data, name, False)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise InvalidInput("validation.email", f"{name} is not an e-mail address", {"field": name})
    return value.strip()


def language(data: Mapping[str, Any], name: str = "language") -> str | None:
    value = _field(data, name, False)
    if value is None:
        return None
    if value not in LANGUAGES:
        raise InvalidInput("validation.language", f"{name} must be one of {', '.join(LANGUAGES)}", {"field": name})
    return str(value)


def roles(data: Mapping[str, Any], name: str = "roles", *, required: bool = False) -> list[str] | None:
    value = _field(data, name, required)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
        raise InvalidInput("validation.type", f"{name} must be a non-empty list of roles", {"field": name})
    unknown = [r for r in value if r not in ROLES]
    if unknown:
        raise InvalidInput("validation.role", f"unknown roles: {', '.join(unknown)}", {"field": name,
                                                                                        "unknown": unknown})
    return sorted(set(value), key=ROLES.index)


def id_list(data: Mapping[str, Any], name: str, *, required: bool = False, allow_empty: bool = False,
            max_items: int = 1000) -> list[str] | None:
    value = _field(data, name, required)
    if value is None:
        return None
    if (not isinstance(value, list) or not all(isinstance(x, str) and 0 < len(x) <= 64 for x in value)
            or len(value) > max_items):
        raise InvalidInput("validation.type", f"{name} must be a list of ids", {"field": name})
    if not value and not allow_empty:
        raise InvalidInput("validation.required", f"{name} must not be empty", {"field": name})
    return list(dict.fromkeys(value))


def password(data: Mapping[str, Any], name: str = "password") -> str:
    value = _field(data, name, True)
    if not isinstance(value, str):
        raise InvalidInput("validation.type", f"{name} must be a string", {"field": name})
    if len(value) < PASSWORD_MIN:
        raise InvalidInput("password.too_short", f"{name} needs at least {PASSWORD_MIN} characters",
                           {"field": name, "min": PASSWORD_MIN})
    if len(value) > PASSWORD_MAX:
        raise InvalidInput("password.too_long", f"{name} may have at most {PASSWORD_MAX} characters",
                           {"field": name, "max": PASSWORD_MAX})
    return value


def tenant_code(value: Any) -> str:
    if not isinstance(value, str) or not TENANT_CODE.match(value):
        raise InvalidInput("validation.tenant_code", "code must be 2-32 of a-z, 0-9, _ and -, starting with a "
                           "letter or digit", {"field": "code"})
    return value


def only_fields(data: Any, allowed_fields: Iterable[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("invalid_json", "request body must be a JSON object")
    extra = sorted(set(data) - set(allowed_fields))
    if extra:
        raise InvalidInput("validation.unknown_field", f"unknown fields: {', '.join(extra)}", {"fields": extra})
    return data


def primary_dept(dept_ids: list[str], primary: str | None) -> str:
    if primary is None:
        return dept_ids[0]
    if primary not in dept_ids:
        raise InvalidInput("employee.primary_not_member", "the primary department must be one of the departments",
                           {"field": "primary_dept_id"})
    return primary


def check_grant(actor_roles: Iterable[str], granted: Iterable[str]) -> None:
    """A department admin may hand out only :data:`DEPT_ADMIN_GRANTABLE` roles."""
    actor = set(actor_roles)
    if TENANT_ADMIN in actor:
        return
    beyond = sorted(set(granted) - DEPT_ADMIN_GRANTABLE)
    if beyond:
        raise Forbidden("permission.role_grant", "you may not grant these roles", {"roles": beyond})


def check_not_last_admin(target_roles: Iterable[str], other_active_admins: int, action: str) -> None:
    if TENANT_ADMIN in set(target_roles) and other_active_admins == 0:
        raise BusinessRule("employee.last_admin", f"cannot {action} the last tenant admin",
                           {"action": action})


def invitation_link(app_url: str, invitation_id: str, token: str) -> str:
    """The link of an invitation: the mobile app's join page (``/m/join/<id>?token=…``)."""
    return f"{app_url.rstrip('/')}/m/join/{quote(invitation_id, safe='')}?token={quote(token, safe='')}"


PAGE_SIZE_MAX = 200


def whole(value: Any, name: str, default: int, lo: int, hi: int) -> int:
    """A whole number argument (a query string's ``"5"`` too) in ``lo..hi``."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise InvalidInput("validation.type", f"{name} must be a whole number", {"field": name})
    n = int(value)
    if not lo <= n <= hi:
        raise InvalidInput("validation.range", f"{name} must be in {lo}..{hi}", {"field": name})
    return n


def search_text(value: Any, name: str = "q") -> str:
    """A search term: trimmed, lower-cased, at most 64 characters; '' when absent."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("validation.type", f"{name} must be a string", {"field": name})
    return value.strip().lower()[:NAME_MAX]


def matches(employee: Mapping[str, Any], q: str) -> bool:
    """A search term is in the name or the mobile."""
    return not q or q in str(employee.get("name") or "").lower() or q in str(employee.get("mobile") or "")


def page_of(rows: list[Any], page: int, page_size: int) -> dict[str, Any]:
    return {"items": rows[(page - 1) * page_size: page * page_size], "total": len(rows), "page": page,
            "page_size": page_size}
