"""How a visit leaves the service: plain JSON (ISO-8601 strings, string ids)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from crmkit.clock import iso


def plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return iso(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return None
    return v


def public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in ("_id",)}
    out["id"] = doc["_id"]
    ci = out.get("check_in")
    if isinstance(ci, dict) and isinstance(ci.get("photo"), dict):
        photo = dict(ci["photo"])
        photo.pop("blobs", None)
        photo["kinds"] = ["original", "thumbnail", "watermarked"]
        out["check_in"] = {**ci, "photo": photo}
    shown: dict[str, Any] = plain(out)
    return shown


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    keys = ("customer_id", "customer_name", "employee_id", "created_by", "owner_id", "planned_at", "day",
            "status", "topic", "scenario", "location", "task")
    out = {k: doc.get(k) for k in keys}
    out["id"] = doc["_id"]
    out["has_photo"] = bool(((doc.get("check_in") or {}).get("photo") or {}).get("sha256"))
    shown: dict[str, Any] = plain(out)
    return shown


def event_data(doc: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    data = {"visit_id": doc["_id"], "customer_id": doc["customer_id"], "employee_id": doc["employee_id"],
            "owner_id": doc.get("owner_id"), "day": doc["day"], "planned_at": doc["planned_at"],
            "status": doc.get("status")}
    data.update(extra or {})
    shown: dict[str, Any] = plain(data)
    return shown
