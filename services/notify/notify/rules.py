"""Pure rules of notify: who gets what (event -> intents), which channels a kind may use,
validation of preferences, settings and webhooks, and inbox cursors. No I/O."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmkit.errors import InvalidInput

CHANNELS = ("inbox", "email", "webhook")

#: kinds an employee receives and may route through their preferences
EMPLOYEE_KINDS = (
    "claim_request_submitted", "claim_request_approved", "claim_request_rejected", "visit_reviewed",
    "reclaim_warning", "reclaimed", "handover", "departure_handover", "daily_digest", "export_ready",
)
#: kinds with fixed channels: the invitation carries a secret (never to a shared webhook);
#: the CBM is an outside person reached by e-mail, and the tenant's webhooks get the notice too
FIXED_CHANNELS: dict[str, tuple[str, ...]] = {
    "invitation": ("inbox", "email"),
    "cbm_visit_notice": ("email", "webhook"),
}
ALL_KINDS = EMPLOYEE_KINDS + tuple(FIXED_CHANNELS)
#: what a webhook may subscribe to (``kinds``): every kind that can reach a webhook
WEBHOOK_KINDS = EMPLOYEE_KINDS + tuple(k for k, ch in FIXED_CHANNELS.items() if "webhook" in ch)
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_DIGEST_HOUR = 8
TLS_MODES = ("none", "starttls", "ssl")


@dataclass
class Intent:
    """One message to send because of one event."""

    kind: str
    to_ids: list[str] = field(default_factory=list)       # employee ids
    to_role: str | None = None                            # every employee with this role
    to_address: dict[str, Any] | None = None              # {"email", "name", "language"} of an outsider
    values: dict[str, Any] = field(default_factory=dict)  # template values
    name_refs: dict[str, str] = field(default_factory=dict)  # value key -> employee id whose name fills it
    language: str | None = None                           # hint when the recipient's own is unknown
    data: dict[str, Any] = field(default_factory=dict)    # ids kept with the notification
    emails: dict[str, str] = field(default_factory=dict)  # employee id -> address when identity has none


def _s(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _ids(*values: Any) -> list[str]:
    out: list[str] = []
    for v in values:
        s = _s(v)
        if s and s not in out:
            out.append(s)
    return out


def _pick(data: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if data.get(k) not in (None, ""):
            return data[k]
    return None


def _keep(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: data[k] for k in keys if isinstance(data.get(k), (str, int, float, bool))}


def cbm_contact(data: dict[str, Any]) -> dict[str, Any] | None:
    """The CBM's contact from a visit.planned event: ``data.cbm`` {email, name, language} or flat
    ``cbm_email``/``cbm_name``/``cbm_language``."""
    cbm: dict[str, Any] = data["cbm"] if isinstance(data.get("cbm"), dict) else {}
    email = _pick(cbm, "email", "contact", "address") or _pick(data, "cbm_email", "cbm_contact")
    if not email or "@" not in str(email):
        return None
    return {"email": str(email), "name": _pick(cbm, "name") or data.get("cbm_name"),
            "language": _pick(cbm, "language") or data.get("cbm_language"), "id": _pick(cbm, "id")}


def intents_for(env: dict[str, Any]) -> list[Intent]:
    """What an event means for notify (empty when nothing is to be sent)."""
    t = env.get("type", "")
    d = env.get("data") or {}
    actor = env.get("actor_id")
    if t == "employee.invited":
        return [Intent("invitation", to_ids=_ids(d.get("employee_id")), language=d.get("language"),
                       values=_keep(d, "name", "invitation_token", "invitation_id", "tenant_name", "accept_url",
                                    "expires_at"),
                       data=_keep(d, "employee_id", "invitation_id"),
                       emails={str(d["employee_id"]): str(d["email"])} if d.get("employee_id") and d.get("email")
                       else {})]
    if t == "employee.left" and d.get("handover_to"):
        return [Intent("departure_handover", to_ids=_ids(d.get("handover_to")),
                       name_refs={"from_name": str(d.get("employee_id"))}, values=_keep(d, "from_name"),
                       data=_keep(d, "employee_id", "reason"))]
    if t == "visit.planned":
        contact = cbm_contact(d)
        if not contact:
            return []
        employee = _pick(d, "employee_id", "owner_id", "created_by") or actor
        values = _keep(d, "customer_name", "topic", "employee_name")
        values["planned_at"] = _pick(d, "planned_at", "planned_start", "start_at", "date")
        values["cbm_name"] = contact.get("name")
        return [Intent("cbm_visit_notice", to_address=contact, language=contact.get("language"), values=values,
                       name_refs={"employee_name": str(employee)} if employee and not values.get("employee_name")
                       else {}, data={**_keep(d, "visit_id", "customer_id", "cbm_id", "planned_at"),
                                      **({"cbm_id": str(contact["id"])} if contact.get("id") else {})})]
    if t == "visit.reviewed":
        values = _keep(d, "customer_name", "reason", "result")
        values["result"] = _pick(d, "result", "validity", "status")
        values["planned_at"] = _pick(d, "planned_at", "planned_start", "date")
        return [Intent("visit_reviewed", to_ids=_ids(_pick(d, "employee_id", "owner_id", "created_by")),
                       values=values, data=_keep(d, "visit_id", "customer_id", "result"))]
    if t == "pool.claim_request_submitted":
        requester = _pick(d, "requester_id", "employee_id") or actor
        return [Intent("claim_request_submitted", to_role="support", values=_keep(d, "customer_name", "reason"),
                       name_refs={"requester_name": str(requester)} if requester else {},
                       data=_keep(d, "request_id", "claim_request_id", "customer_id"))]
    if t in ("pool.claim_request_approved", "pool.claim_request_rejected"):
        kind = "claim_request_approved" if t.endswith("approved") else "claim_request_rejected"
        return [Intent(kind, to_ids=_ids(_pick(d, "requester_id", "employee_id")),
                       values=_keep(d, "customer_name", "reason"),
                       data=_keep(d, "request_id", "claim_request_id", "customer_id"))]
    if t == "pool.reclaim_warning":
        values = _keep(d, "customer_name")
        values["reclaim_at"] = _pick(d, "reclaim_at", "reclaim_on", "due_at", "deadline")
        return [Intent("reclaim_warning", to_ids=_ids(_pick(d, "owner_id", "employee_id")), values=values,
                       data=_keep(d, "customer_id"))]
    if t == "pool.reclaimed":
        return [Intent("reclaimed", to_ids=_ids(_pick(d, "owner_id", "from_owner_id", "previous_owner_id")),
                       values=_keep(d, "customer_name", "reason"), data=_keep(d, "customer_id"))]
    if t == "customer.owner_changed" and d.get("path") == "handover" and d.get("to_owner_id"):
        refs = {"from_name": str(d["from_owner_id"])} if d.get("from_owner_id") else {}
        return [Intent("handover", to_ids=_ids(d.get("to_owner_id")), values=_keep(d, "customer_name"),
                       name_refs=refs, data=_keep(d, "customer_id", "from_owner_id"))]
    if t == "report.export_ready":
        values = _keep(d, "download_url", "name", "file_name")
        values.setdefault("name", d.get("filename") or d.get("file_name") or d.get("export_id"))
        return [Intent("export_ready", to_ids=_ids(_pick(d, "requested_by", "employee_id", "user_id") or actor),
                       values=values, data=_keep(d, "export_id", "download_url"))]
    return []


# -- channels and preferences ------------------------------------------------------------------

def default_channels(kind: str) -> list[str]:
    return list(FIXED_CHANNELS.get(kind, CHANNELS))


def channels_for(kind: str, prefs: dict[str, Any] | None) -> list[str]:
    if kind in FIXED_CHANNELS:
        return list(FIXED_CHANNELS[kind])
    chosen = (prefs or {}).get(kind)
    if not isinstance(chosen, list):
        return default_channels(kind)
    return [c for c in CHANNELS if c in chosen]


def effective_preferences(stored: dict[str, Any] | None) -> dict[str, list[str]]:
    return {k: channels_for(k, stored) for k in EMPLOYEE_KINDS}


def validate_preferences(data: Any) -> dict[str, list[str]]:
    channels = data.get("channels", data) if isinstance(data, dict) else None
    if not isinstance(channels, dict):
        raise InvalidInput("preferences.invalid", "preferences must be an object {kind: [channels]}")
    out: dict[str, list[str]] = {}
    for kind, chosen in channels.items():
        if kind not in EMPLOYEE_KINDS:
            raise InvalidInput("preferences.unknown_kind", f"unknown or fixed notification kind: {kind}",
                               {"kind": kind, "kinds": list(EMPLOYEE_KINDS)})
        if not isinstance(chosen, list) or any(c not in CHANNELS for c in chosen):
            raise InvalidInput("preferences.unknown_channel", f"channels must be a list of {list(CHANNELS)}",
                               {"kind": kind})
        out[kind] = [c for c in CHANNELS if c in chosen]
    return out


# -- tenant settings -----------------------------------------------------------------------------

def _num(data: dict[str, Any], key: str, lo: float, hi: float) -> float | None:
    if key not in data or data[key] is None:
        return None
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise InvalidInput("settings.invalid", f"{key} must be a number in [{lo}, {hi}]", {"field": key})
    return float(v)


def validate_settings(data: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge a partial settings update into the current settings."""
    if not isinstance(data, dict):
        raise InvalidInput("settings.invalid", "settings must be an object")
    out = dict(current or {})
    for key, lo, hi in (("retry_base_seconds", 0.05, 86400), ("retry_cap_seconds", 0.05, 7 * 86400),
                        ("max_attempts", 1, 20), ("digest_hour", 0, 23)):
        v = _num(data, key, lo, hi)
        if v is not None:
            out[key] = int(v) if key in ("max_attempts", "digest_hour") else v
    if "allow_private_webhooks" in data:
        if not isinstance(data["allow_private_webhooks"], bool):
            raise InvalidInput("settings.invalid", "allow_private_webhooks must be a boolean")
        out["allow_private_webhooks"] = data["allow_private_webhooks"]
    if "timezone" in data:
        tz = data["timezone"]
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput("settings.invalid_timezone", f"unknown time zone {tz}") from None
        out["timezone"] = str(tz)
    if "language" in data:
        if data["language"] not in ("zh-CN", "en"):
            raise InvalidInput("settings.invalid", "language must be zh-CN or en")
        out["language"] = data["language"]
    if "smtp" in data:
        out["smtp"] = validate_smtp(data["smtp"], (current or {}).get("smtp"))
    return out


def validate_smtp(data: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InvalidInput("settings.invalid_smtp", "smtp must be an object")
    smtp = dict(current or {})
    smtp.update({k: v for k, v in data.items() if k in
                 ("host", "port", "username", "password", "from_addr", "tls", "timeout")})
    if not isinstance(smtp.get("host"), str) or not smtp["host"].strip():
        raise InvalidInput("settings.invalid_smtp", "smtp.host is required")
    port = smtp.get("port", 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidInput("settings.invalid_smtp", "smtp.port must be 1-65535")
    smtp["port"] = port
    smtp["tls"] = smtp.get("tls") or "none"
    if smtp["tls"] not in TLS_MODES:
        raise InvalidInput("settings.invalid_smtp", f"smtp.tls must be one of {list(TLS_MODES)}")
    if not isinstance(smtp.get("from_addr"), str) or "@" not in smtp["from_addr"]:
        raise InvalidInput("settings.invalid_smtp", "smtp.from_addr must be an e-mail address")
    return smtp


def public_settings(s: dict[str, Any] | None, operator_allows: bool) -> dict[str, Any]:
    s = dict(s or {})
    s.pop("_id", None)
    smtp = dict(s.get("smtp") or {}) or None
    if smtp:
        smtp["password_set"] = bool(smtp.pop("password", None))
    return {
        "retry_base_seconds": s.get("retry_base_seconds"), "retry_cap_seconds": s.get("retry_cap_seconds"),
        "max_attempts": s.get("max_attempts"), "timezone": s.get("timezone", DEFAULT_TIMEZONE),
        "digest_hour": s.get("digest_hour", DEFAULT_DIGEST_HOUR), "language": s.get("language", "zh-CN"),
        "allow_private_webhooks": s.get("allow_private_webhooks", True),
        "private_webhooks_effective": operator_allows and s.get("allow_private_webhooks", True),
        "smtp": smtp,
    }


def allow_private(settings: dict[str, Any] | None, operator_allows: bool) -> bool:
    """The operator's allowance, which a tenant may switch off (never on)."""
    return operator_allows and bool((settings or {}).get("allow_private_webhooks", True))


def validate_webhook(data: Any, partial: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("webhook.invalid", "webhook must be an object")
    out: dict[str, Any] = {}
    if "url" in data or not partial:
        if not isinstance(data.get("url"), str):
            raise InvalidInput("webhook.url_invalid", "url is required")
        out["url"] = data["url"].strip()
    if "name" in data:
        out["name"] = str(data["name"])[:100]
    if "kinds" in data:
        kinds = data["kinds"]
        if not isinstance(kinds, list) or any(k not in WEBHOOK_KINDS for k in kinds):
            raise InvalidInput("webhook.invalid_kinds", "kinds must be a list of notification kinds",
                               {"kinds": list(WEBHOOK_KINDS)})
        out["kinds"] = list(dict.fromkeys(kinds))
    if "active" in data:
        out["active"] = bool(data["active"])
    if "secret" in data:
        if not isinstance(data["secret"], str) or len(data["secret"]) < 16:
            raise InvalidInput("webhook.invalid_secret", "secret must be at least 16 characters")
        out["secret"] = data["secret"]
    return out


# -- inbox cursors ----------------------------------------------------------------------------------

def sort_key(created_at: datetime, notification_id: str) -> str:
    return created_at.strftime("%Y%m%dT%H%M%S%f") + "|" + notification_id


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor.invalid", "invalid cursor") from None
    if "|" not in key:
        raise InvalidInput("cursor.invalid", "invalid cursor")
    return key


def page_limit(limit: Any, default: int = 20, maximum: int = 100) -> int:
    if limit in (None, ""):
        return default
    try:
        n = int(limit)
    except (TypeError, ValueError):
        raise InvalidInput("limit.invalid", "limit must be an integer") from None
    if n < 1:
        raise InvalidInput("limit.invalid", "limit must be at least 1")
    return min(n, maximum)


def local_day(now: datetime, timezone: str | None) -> tuple[str, int]:
    """(YYYY-MM-DD, hour) of ``now`` in the tenant's time zone."""
    try:
        tz = ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(DEFAULT_TIMEZONE)
    local = now.astimezone(tz)
    return local.strftime("%Y-%m-%d"), local.hour
