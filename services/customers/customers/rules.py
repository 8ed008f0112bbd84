"""Pure rules of the customers domain: input validation, required fields, visibility,
tag exclusivity, custom-field values, formula-injection neutralising. No I/O."""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from typing import Any

from crmkit.errors import InvalidInput
from customers.names import company_key
from customers.phones import parse_phone

MAX_NAME = 100
MAX_ADDRESS = 200
MAX_TEXT = 500
MAX_SHORT = 50
MAX_PHONES = 10
KINDS = ("own", "vendor")
CUSTOMER_TYPES = ("company", "person")
PHONE_FIELDS = ("landlines", "faxes", "mobiles")
TAG_COLOURS = ("red", "orange", "yellow", "green", "blue", "purple")
FIELD_TYPES = ("text", "number", "date", "select", "multiselect", "bool")
ADMIN_ROLES = ("tenant_admin", "system", "operator")
ALL_CUSTOMER_ROLES = ("tenant_admin", "all_customers", "system", "operator")
#: roles that enter customers (single entry and xlsx import): the people who follow customers
#: in a private pool. Sales support (销售支持) works the claim-request queue and does not.
ENTRY_ROLES = ("tenant_admin", "dept_admin", "all_customers", "employee", "system", "operator")

# control characters, zero-width and bidi marks, unpaired surrogates, private use
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff"
                      r"\ue000-\uf8ff]")

BUILTIN_CUSTOMER_FIELDS = ("name", "address", "landlines", "faxes", "mobiles", "industry", "grade", "region",
                           "location", "kind", "customer_type", "cbm_id", "contract_start", "contract_end",
                           "billing", "tags", "remark")
BUILTIN_CONTACT_FIELDS = ("name", "mobile", "title", "company", "address", "tags", "share_scope")


class Problems:
    """Collects field problems; raises one InvalidInput listing all of them."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.items.append({"field": field, "code": code, "message": message})

    def raise_if_any(self, code: str = "customer.invalid") -> None:
        if self.items:
            first = self.items[0]
            raise InvalidInput(code, f"{first['field']}: {first['message']}", {"errors": self.items})


def illegal_chars(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in _ILLEGAL.findall(text)})


def clean_text(p: Problems, field: str, value: Any, *, max_len: int, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            p.add(field, "required", "is required")
        return None
    if not isinstance(value, str):
        p.add(field, "type", "must be a string")
        return None
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > max_len:
        p.add(field, "too_long", f"at most {max_len} characters (got {len(text)})")
        return None
    bad = illegal_chars(text)
    if bad:
        p.add(field, "illegal_characters", f"illegal characters {', '.join(bad)}")
        return None
    return text


def clean_location(p: Problems, value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        p.add("location", "type", "must be an object {lat, lng}")
        return None
    out: dict[str, float] = {}
    for axis, bound in (("lat", 90.0), ("lng", 180.0)):
        v = value.get(axis)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or abs(v) > bound:
            p.add(f"location.{axis}", "invalid_coordinate", f"must be a number in [-{bound:g}, {bound:g}]")
            continue
        out[axis] = float(v)
    return out if len(out) == 2 else None


def clean_phones(p: Problems, field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        p.add(field, "type", "must be a list of phone numbers")
        return []
    if len(value) > MAX_PHONES:
        p.add(field, "too_many", f"at most {MAX_PHONES} numbers")
        return []
    out: list[str] = []
    for i, raw in enumerate(value):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        phone = parse_phone(raw)
        if phone is None:
            p.add(f"{field}[{i}]", "invalid_phone", f"not a phone number: {str(raw)[:40]!r}")
            continue
        out.append(phone.display())
    return out


#: the years a contract or project date may fall in (a typo such as 0202 or 20255 is refused)
DATE_YEARS = (1900, 2099)


def clean_date(p: Problems, field: str, value: Any) -> str | None:
    """An ISO date ``YYYY-MM-DD`` (a datetime's date part is accepted) in :data:`DATE_YEARS`."""
    if value in (None, ""):
        return None
    text = str(value)[:40]
    try:
        day = date.fromisoformat(text[:10])
        if len(text) > 10 and text[10] not in "T ":
            raise ValueError(text)
    except ValueError:
        p.add(field, "invalid_date", "must be an ISO date YYYY-MM-DD")
        return None
    if not DATE_YEARS[0] <= day.year <= DATE_YEARS[1]:
        p.add(field, "invalid_date", f"the year must be between {DATE_YEARS[0]} and {DATE_YEARS[1]}")
        return None
    return day.isoformat()


def validate_customer(data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Clean customer input. ``partial`` for edits (only given fields, required rules
    checked against the merged document by :func:`check_required`)."""
    if not isinstance(data, dict):
        raise InvalidInput("customer.invalid", "customer must be an object")
    p = Problems()
    out: dict[str, Any] = {}

    def given(k: str) -> bool:
        return not partial or k in data

    if given("name"):
        out["name"] = clean_text(p, "name", data.get("name"), max_len=MAX_NAME, required=True)
        if out["name"] and not company_key(out["name"]):
            p.add("name", "invalid", "has no letters")
    if given("address"):
        out["address"] = clean_text(p, "address", data.get("address"), max_len=MAX_ADDRESS, required=True)
    for f in PHONE_FIELDS:
        if given(f):
            out[f] = clean_phones(p, f, data.get(f))
    for f, n in (("industry", MAX_SHORT), ("grade", 20), ("region", MAX_SHORT), ("remark", MAX_TEXT),
                 ("cbm_id", 64)):
        if given(f):
            out[f] = clean_text(p, f, data.get(f), max_len=n)
    if given("kind"):
        kind = data.get("kind") or "own"
        if kind not in KINDS:
            p.add("kind", "invalid", f"one of {', '.join(KINDS)}")
        out["kind"] = kind
    if given("customer_type"):
        ct = data.get("customer_type") or "company"
        if ct not in CUSTOMER_TYPES:
            p.add("customer_type", "invalid", f"one of {', '.join(CUSTOMER_TYPES)}")
        out["customer_type"] = ct
    if given("location"):
        out["location"] = clean_location(p, data.get("location"))
    for f in ("contract_start", "contract_end"):
        if given(f):
            out[f] = clean_date(p, f, data.get(f))
    if given("billing"):
        out["billing"] = clean_billing(p, data.get("billing"))
    if given("custom"):
        c = data.get("custom") or {}
        if not isinstance(c, dict):
            p.add("custom", "type", "must be an object")
            c = {}
        out["custom"] = c
    if given("tags"):
        t = data.get("tags") or []
        if not isinstance(t, list) or not all(isinstance(x, str) for x in t):
            p.add("tags", "type", "must be a list of tag ids")
            t = []
        out["tags"] = list(dict.fromkeys(t))
    unknown = set(data) - set(BUILTIN_CUSTOMER_FIELDS) - {"custom", "owner_id"}
    for f in sorted(unknown):
        p.add(f, "unknown_field", "is not a customer field")
    p.raise_if_any()
    if not partial:
        check_required(out)
    return out


def clean_billing(p: Problems, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        p.add("billing", "type", "must be an object")
        return None
    out: dict[str, Any] = {}
    for f, n in (("title", MAX_NAME), ("tax_no", 30), ("bank", MAX_SHORT), ("account", 40),
                 ("address", MAX_ADDRESS)):
        out[f] = clean_text(p, f"billing.{f}", value.get(f), max_len=n)
    phone = value.get("phone")
    if phone:
        ph = parse_phone(phone)
        if ph is None:
            p.add("billing.phone", "invalid_phone", "not a phone number")
        out["phone"] = ph.display() if ph else None
    else:
        out["phone"] = None
    for f in sorted(set(value) - {"title", "tax_no", "bank", "account", "address", "phone"}):
        p.add(f"billing.{f}", "unknown_field", "is not a billing field")
    return out


def check_required(doc: dict[str, Any]) -> None:
    """Company name, business address and at least one phone (landline, fax or mobile)."""
    p = Problems()
    if not doc.get("name"):
        p.add("name", "required", "is required")
    if not doc.get("address"):
        p.add("address", "required", "is required")
    if not any(doc.get(f) for f in PHONE_FIELDS):
        p.add("phones", "required", "give at least one landline, fax or mobile")
    p.raise_if_any()


def all_numbers(doc: dict[str, Any]) -> list[str]:
    nums = [n for f in PHONE_FIELDS for n in (doc.get(f) or [])]
    billing = doc.get("billing") or {}
    if billing.get("phone"):
        nums.append(billing["phone"])
    return nums


# -- visibility ---------------------------------------------------------------------------
def subtree(root_ids: Any, parents: dict[str, str | None]) -> set[str]:
    """Every department in the subtrees rooted at ``root_ids`` (roots included; unknown
    roots ignored) — the same rule as identity's ``rules.subtree``."""
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
        stack.extend(children.get(d, []))
    return out


def sees_all(roles: tuple[str, ...] | list[str]) -> bool:
    return any(r in ALL_CUSTOMER_ROLES for r in roles)


def can_see(customer: dict[str, Any], user_id: str, scope: dict[str, Any], dept_scope: Any = ()) -> bool:
    """``scope`` is identity's ``visible_owner_ids`` answer ({all, user_ids});
    ``dept_scope`` the departments whose *assigned* customers the caller sees (a
    department admin's subtree; nobody else's — assignment never widens a plain
    employee's visibility, SPEC §3).

    Public-pool and unowned customers (owner None) are seen here only by the all-seeing;
    the pool service shows the public pool through its own (masked) search.
    """
    if scope.get("all"):
        return True
    owner = customer.get("owner_id")
    if owner is not None and (owner == user_id or owner in set(scope.get("user_ids") or ())):
        return True
    if user_id in (customer.get("shared_with") or ()):
        return True
    return bool(set(customer.get("dept_ids") or ()) & set(dept_scope))


def visibility_filters(user_id: str, scope: dict[str, Any], dept_scope: Any = ()) -> list[dict[str, Any]]:
    """Equality filters whose union is the visible set (empty list = everything)."""
    if scope.get("all"):
        return []
    owners = list(dict.fromkeys([user_id, *(scope.get("user_ids") or [])]))
    filters: list[dict[str, Any]] = [{"owner_id": o} for o in owners]
    filters.append({"shared_with": user_id})
    filters.extend({"dept_ids": d} for d in sorted(dept_scope))
    return filters


def can_edit(customer: dict[str, Any], user_id: str, roles: tuple[str, ...], supervisor_id: str | None) -> bool:
    """Edit: owner, owner's supervisor, admin."""
    if any(r in ADMIN_ROLES for r in roles):
        return True
    owner = customer.get("owner_id")
    return owner is not None and (owner == user_id or supervisor_id == user_id)


# -- tags and custom fields ----------------------------------------------------------------
def check_exclusive_tags(tag_ids: list[str], group_of: dict[str, str]) -> None:
    """Tags inside one group are mutually exclusive; unknown tags are refused."""
    unknown = [t for t in tag_ids if t not in group_of]
    if unknown:
        raise InvalidInput("tags.unknown", "unknown tags", {"tag_ids": unknown})
    seen: dict[str, str] = {}
    for t in tag_ids:
        g = group_of[t]
        if g in seen:
            raise InvalidInput("tags.exclusive", "tags of one group are mutually exclusive",
                               {"group_id": g, "tag_ids": [seen[g], t]})
        seen[g] = t


def validate_custom_values(values: dict[str, Any], fields: list[dict[str, Any]]) -> dict[str, Any]:
    """Check values against the tenant's custom-field definitions (by key)."""
    by_key = {f["key"]: f for f in fields}
    p = Problems()
    out: dict[str, Any] = {}
    for k, v in values.items():
        f = by_key.get(k)
        if f is None:
            p.add(f"custom.{k}", "unknown_field", "no such custom field")
            continue
        if v is None or v == "":
            out[k] = None
            continue
        t = f.get("type")
        ok = True
        if t == "text":
            ok = isinstance(v, str) and len(v) <= MAX_TEXT and not illegal_chars(v)
        elif t == "number":
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        elif t == "bool":
            ok = isinstance(v, bool)
        elif t == "date":
            try:
                v = date.fromisoformat(str(v)).isoformat()
            except ValueError:
                ok = False
        elif t == "select":
            ok = v in (f.get("options") or [])
        elif t == "multiselect":
            ok = isinstance(v, list) and all(x in (f.get("options") or []) for x in v)
        if not ok:
            p.add(f"custom.{k}", "invalid_value", f"not a valid {t}")
        out[k] = v
    for f in fields:
        if f.get("required") and out.get(f["key"]) in (None, "", []) and f["key"] not in values:
            p.add(f"custom.{f['key']}", "required", "is required")
    p.raise_if_any("custom_fields.invalid")
    return out


def validate_field_definition(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("custom_fields.invalid", "field must be an object")
    p = Problems()
    entity = data.get("entity")
    if entity not in ("customer", "contact"):
        p.add("entity", "invalid", "customer or contact")
    key = data.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key):
        p.add("key", "invalid", "lower-case letters, digits and _ (max 40), starting with a letter")
    label = clean_text(p, "label", data.get("label"), max_len=MAX_SHORT, required=True)
    ftype = data.get("type")
    if ftype not in FIELD_TYPES:
        p.add("type", "invalid", f"one of {', '.join(FIELD_TYPES)}")
    options = data.get("options") or []
    if ftype in ("select", "multiselect") and (not isinstance(options, list) or not options
                                               or not all(isinstance(o, str) and o for o in options)):
        p.add("options", "required", "select fields need a list of options")
    builtins = BUILTIN_CUSTOMER_FIELDS if entity == "customer" else BUILTIN_CONTACT_FIELDS
    if isinstance(key, str) and key in builtins:
        p.add("key", "builtin", "is a built-in field")
    p.raise_if_any("custom_fields.invalid")
    return {"entity": entity, "key": key, "label": label, "type": ftype,
            "options": list(options) if ftype in ("select", "multiselect") else [],
            "required": bool(data.get("required"))}


# -- exports -------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
