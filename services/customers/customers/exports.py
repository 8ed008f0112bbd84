"""Exports (xlsx, stored in parts for the gateway to stream), the import templates and the
customer map."""
from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import eventlet.tpool

from crmkit.context import CallContext
from customers import contact_sheets, downloads, registry, sheets
from customers.peers import Directory
from customers.store import Store

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: exported times when the tenant's zone cannot be asked (visits' own default)
DEFAULT_TIME_ZONE = "Asia/Shanghai"
log = logging.getLogger(__name__)


def _file(name: str, data: bytes) -> dict[str, Any]:
    return {"filename": name, "content_type": XLSX, "data_b64": base64.b64encode(data).decode()}


def customer_template() -> dict[str, Any]:
    return _file("customers-import-template.xlsx", sheets.template_bytes())


def contact_template() -> dict[str, Any]:
    return _file("contacts-import-template.xlsx", contact_sheets.template_bytes())


def zone(visits: Any) -> ZoneInfo:
    """The tenant's time zone for exported times: the tenant setting the visits service
    keeps (``time_zone``, identity has none), else ``DEFAULT_TIME_ZONE``."""
    try:
        name = (visits.get_settings() or {}).get("time_zone")
    except Exception as exc:  # visits down or slow: the default zone, logged
        log.warning("visits.get_settings failed, exporting in %s: %s", DEFAULT_TIME_ZONE, exc)
        name = None
    try:
        return ZoneInfo(str(name or DEFAULT_TIME_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def _export(store: Store, ctx: CallContext, now: datetime, filename: str, sheet: str, header: list[sheets.Header],
            rows: Iterable[list[Any]]) -> dict[str, Any]:
    """Write the workbook to a temporary file (row by row, in a thread) and store it as
    parts; answers ``{download_id, parts, size, filename, content_type}``."""
    with downloads.temp_path(".xlsx") as path:
        eventlet.tpool.execute(sheets.write_workbook, path, sheet, header, rows)
        return downloads.store_file(store, ctx.tenant_id, ctx.user_id, path, filename, XLSX, now)


def _of_owners(store: Store, ctx: CallContext, d: Directory, owner_ids: list[str]) -> list[dict[str, Any]]:
    docs = registry.visible_docs(store, ctx, d)
    wanted = set(owner_ids)
    return [x for x in docs if x.get("owner_id") in wanted] if wanted else docs


def export_customers(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, visits: Any, owner_ids: list[str]
                     ) -> dict[str, Any]:
    docs = _of_owners(store, ctx, d, owner_ids)
    names = d.names([x.get("owner_id") for x in docs])
    header, rows = sheets.customer_rows(docs, names, zone(visits))
    return _export(store, ctx, kit.now(), "customers.xlsx", "customers", header, rows)


def export_employee_customers(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory) -> dict[str, Any]:
    docs = registry.visible_docs(store, ctx, d)
    names = d.names([u for x in docs for u in [x.get("owner_id"), *(x.get("shared_with") or [])]])
    header, rows = sheets.employee_customer_rows(docs, names)
    return _export(store, ctx, kit.now(), "employee-customers.xlsx", "employee-customers", header, rows)


def customer_map(store: Store, ctx: CallContext, d: Directory, owner_ids: list[str]) -> dict[str, Any]:
    return sheets.geojson(_of_owners(store, ctx, d, owner_ids))
