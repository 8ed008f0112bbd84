"""Nameko entrypoints of the customers service: thin, they turn messages into calls."""
from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import eventlet.tpool
from nameko.timer import timer

from crmkit.errors import Forbidden, InvalidInput, TooLarge
from crmkit.nameko.base import BaseService
from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from customers import (
    catalog,
    cbms,
    contact_sheets,
    contacts,
    downloads,
    imports,
    lifecycle,
    ownership,
    registry,
    sheets,
    store,
    timeline,
    uploads,
)
from customers.directory import Directory
from customers.rules import ADMIN_ROLES, page_args

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: exported times when the tenant's zone cannot be asked (visits' own default)
DEFAULT_TIME_ZONE = "Asia/Shanghai"
log = logging.getLogger(__name__)


def _decode(file_b64: Any) -> bytes:
    if not isinstance(file_b64, str) or not file_b64:
        raise InvalidInput("import.no_file", "no file given")
    if len(file_b64) > (sheets.MAX_UPLOAD_BYTES * 4) // 3 + 8:
        raise TooLarge("import.too_large", f"the file exceeds {sheets.MAX_UPLOAD_BYTES} bytes",
                       {"limit": sheets.MAX_UPLOAD_BYTES})
    try:
        return base64.b64decode(file_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("import.bad_encoding", "file must be base64") from None


def _parsed(kit: Any, parse: Callable[[bytes | str], Any], file_b64: Any, upload_id: Any, parts: Any,
            allowed: Callable[[Any], None]) -> Any:
    """The uploaded workbook parsed off the eventlet hub: read from a spool file assembled
    from the parts sent with ``upload_part`` (what the gateway does), or from small base64
    content in the call itself. ``allowed(ctx)`` (the role rule) runs first; a caller it
    refuses leaves no parts behind."""
    try:
        allowed(kit.ctx)
    except Forbidden:
        uploads.discard_own(kit.db, kit.ctx.tenant_id, kit.ctx.user_id, upload_id, parts)
        raise
    if upload_id is None:
        return eventlet.tpool.execute(parse, _decode(file_b64))
    ctx = kit.ctx
    with uploads.spooled(kit.db, ctx.tenant_id, ctx.user_id, upload_id, parts) as path:
        return eventlet.tpool.execute(parse, path)


def _file(name: str, data: bytes) -> dict[str, Any]:
    return {"filename": name, "content_type": XLSX, "data_b64": base64.b64encode(data).decode()}


def _ids(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or len(value) > 500 or not all(isinstance(v, str) for v in value):
        raise InvalidInput("ids.invalid", "a list (or comma-separated string) of at most 500 ids")
    return [v.strip() for v in value if v.strip()]


class CustomersService(BaseService):
    name = "customers"
    kit = Kit("customers")
    identity = TimedRpc("identity", timeout=5)
    pool = TimedRpc("pool", timeout=5)
    visits = TimedRpc("visits", timeout=5)

    _indexed = False
    _backfilled = False

    @timer(interval=3600, eager=True)
    def _ensure_indexes(self) -> None:
        """At start (and hourly, a no-op then): indexes exist before the first request; at
        start, departments assigned before ``assigned_depts`` existed are marked."""
        store.ensure_indexes(self.kit.db)
        if not CustomersService._backfilled:
            store.backfill_assigned_depts(self.kit.db, self.kit.now())
            CustomersService._backfilled = True
        CustomersService._indexed = True

    @timer(interval=600)
    def _purge_uploads(self) -> None:
        """Parts of uploads that were never imported and of downloads never finished
        (abandoned) go after an hour."""
        uploads.purge_stale(self.kit.db, self.kit.now())
        downloads.purge_stale(self.kit.db, self.kit.now())

    def _zone(self) -> ZoneInfo:
        """The tenant's time zone for exported times: the tenant setting the visits service
        keeps (``time_zone``, identity has none), else ``DEFAULT_TIME_ZONE``."""
        try:
            name = (self.visits.get_settings() or {}).get("time_zone")
        except Exception as exc:  # visits down or slow: the default zone, logged
            log.warning("visits.get_settings failed, exporting in %s: %s", DEFAULT_TIME_ZONE, exc)
            name = None
        try:
            return ZoneInfo(str(name or DEFAULT_TIME_ZONE))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIME_ZONE)

    def _export(self, filename: str, sheet: str, header: list[sheets.Header], rows: Iterable[list[Any]]
                ) -> dict[str, Any]:
        """Write the workbook to a temporary file (row by row, in a thread) and store it as
        parts; answers ``{download_id, parts, size, filename, content_type}``."""
        ctx = self.kit.ctx
        with downloads.temp_path(".xlsx") as path:
            eventlet.tpool.execute(sheets.write_workbook, path, sheet, header, rows)
            return downloads.store_file(self.kit.db, ctx.tenant_id, ctx.user_id, path, filename, XLSX,
                                        self.kit.now())

    def _d(self) -> Directory:
        if not CustomersService._indexed:
            store.ensure_indexes(self.kit.db)
            CustomersService._indexed = True
        return Directory(self.identity, self.kit.ctx)

    # -- duplicate check and customers ---------------------------------------------------------
    @api
    def duplicate_check(self, data: dict[str, Any], exclude_customer_id: str | None = None) -> dict[str, Any]:
        """``exclude_customer_id``: check a claim or billing change of that record against all others."""
        return registry.duplicate_check(self.kit, self.kit.ctx, self._d(), data,
                                        str(exclude_customer_id)[:64] if exclude_customer_id else None)

    @api
    def create_customer(self, data: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        return registry.create_customer(self.kit, ctx, self._d(), data, idempotency_key, pool=self.pool)

    @api
    def get_customer(self, customer_id: str) -> dict[str, Any]:
        ctx = self.kit.ctx
        return registry.view(self.kit, ctx, registry.get_visible(self.kit, ctx, self._d(), customer_id))

    @api
    def list_customers(self, q: str | None = None, owner_id: str | None = None, grade: str | None = None,
                       tag: str | None = None, kind: str | None = None, page: Any = 1, page_size: Any = 50,
                       dept_id: str | None = None, unowned: Any = None) -> dict[str, Any]:
        return registry.list_customers(self.kit, self.kit.ctx, self._d(), q, owner_id, grade, tag, kind, page,
                                       page_size, dept_id=dept_id, unowned=unowned)

    @api
    def handover_preview(self, owner_id: str) -> dict[str, Any]:
        return registry.handover_preview(self.kit, self.kit.ctx, self._d(), owner_id)

    @api
    def update_customer(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return registry.update_customer(self.kit, self.kit.ctx, self._d(), customer_id, data)

    @api
    def delete_customer(self, customer_id: str, reason: str | None = None) -> dict[str, Any]:
        return lifecycle.delete_customer(self.kit, self.kit.ctx, self._d(), self.pool, customer_id, reason)

    @api
    def list_deleted_customers(self, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        return lifecycle.list_deleted(self.kit, self.kit.ctx, self._d(), page, page_size)

    @api
    def restore_customer(self, customer_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return lifecycle.restore_customer(self.kit, self.kit.ctx, self._d(), self.pool, customer_id, data)

    @api
    def visible_customer_ids(self, owner_ids: Any = None) -> list[str]:
        return registry.visible_customer_ids(self.kit, self.kit.ctx, self._d(), _ids(owner_ids))

    # -- ownership, sharing, departments -------------------------------------------------------
    @api
    def change_owner(self, customer_id: str, expected_owner_id: str | None, new_owner_id: str | None,
                     path: str, reason: str | None = None) -> dict[str, Any]:
        return ownership.change_owner(self.kit, self.kit.ctx, self._d(), self.pool, customer_id,
                                      expected_owner_id, new_owner_id, path, reason)

    @api
    def transfer_customer(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Admin/dept-admin transfer to a new owner (expected owner = the current one)."""
        d = self._d()
        doc = registry.get_visible(self.kit, self.kit.ctx, d, customer_id)
        new = (data or {}).get("new_owner_id")
        if not isinstance(new, str) or not new:
            raise InvalidInput("transfer.invalid", "new_owner_id is required")
        return ownership.change_owner(self.kit, self.kit.ctx, d, self.pool, customer_id, doc.get("owner_id"), new,
                                      "transfer",
                                      (data or {}).get("reason"))

    @api
    def bind_customers(self, data: dict[str, Any]) -> dict[str, Any]:
        """Bind (owner_id given: path assign) or unbind (owner_id null: back to the public pool)."""
        ctx, d = self.kit.ctx, self._d()
        data = data if isinstance(data, dict) else {}
        ids = _ids(data.get("customer_ids"))
        if not ids:
            raise InvalidInput("bind.invalid", "customer_ids is required")
        new = data.get("owner_id")
        if new is not None and (not isinstance(new, str) or not new):
            raise InvalidInput("bind.invalid", "owner_id: an employee id or null")
        if not ctx.has_role(*ownership.MANAGER_ROLES, "dept_admin"):
            raise Forbidden("bind.forbidden", "only an admin may bind customers")
        docs = [registry.get_visible(self.kit, ctx, d, cid) for cid in ids]  # every id first: 404 moves nothing
        if new is not None:
            d.require_employees([new], "owner_id")
        results = [ownership.change_owner(self.kit, ctx, d, self.pool, doc["_id"], doc.get("owner_id"), new,
                                          "assign" if new else "release", data.get("reason"), owner_checked=True)
                   for doc in docs]
        return {"changed": len(results), "results": results}

    @api
    def ownership_history(self, customer_id: str) -> list[dict[str, Any]]:
        """The ownership log; for admins also of a deleted customer (its delete is logged)."""
        registry.get_audited(self.kit, self.kit.ctx, self._d(), customer_id)
        history: list[dict[str, Any]] = self.pool.ownership_history(customer_id=customer_id)
        return history

    @api
    def share_customers(self, data: dict[str, Any]) -> dict[str, Any]:
        return ownership.share(self.kit, self.kit.ctx, self._d(), data)

    @api
    def assign_departments(self, data: dict[str, Any]) -> dict[str, Any]:
        ctx, d = self.kit.ctx, self._d()
        data = data if isinstance(data, dict) else {}
        if not ctx.has_role(*ADMIN_ROLES, "dept_admin"):
            raise Forbidden("departments.forbidden", "only an admin may assign departments")
        docs = [registry.get_visible(self.kit, ctx, d, cid) for cid in _ids(data.get("customer_ids"))]
        return ownership.assign_departments(self.kit, ctx, d, docs, data.get("dept_ids"), not data.get("unassign"))

    # -- detail: projects, notes, timeline ------------------------------------------------------
    @api
    def list_projects(self, customer_id: str) -> list[dict[str, Any]]:
        registry.get_visible(self.kit, self.kit.ctx, self._d(), customer_id)
        return catalog.list_projects(self.kit.db, self.kit.ctx, customer_id)

    @api
    def create_project(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        doc = registry.get_visible(self.kit, self.kit.ctx, self._d(), customer_id)
        return catalog.create_project(self.kit.db, self.kit.ctx, doc, data, self.kit.now())

    @api
    def add_contact_note(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        ctx = self.kit.ctx
        d = self._d()
        doc = registry.get_visible(self.kit, ctx, d, customer_id)
        note = timeline.validate_note(data)
        contacts.require_note_contact(self.kit, ctx, d, customer_id, note["contact_id"])
        now = self.kit.now()
        nid = store.new_id()
        row = {"_id": nid, "tenant_id": ctx.tenant_id, "customer_id": customer_id, **note, "author_id": ctx.user_id,
               "at": now}
        ev = self.kit.event("customer.contact_noted", {"customer_id": customer_id, "note_id": nid,
                                                       "owner_id": doc.get("owner_id"), "at": now.isoformat(),
                                                       "kind": note["kind"]})
        from crmkit.outbox import Check
        with self.kit.change([ev], Check("contact_notes", {"_id": nid})):
            self.kit.db["contact_notes"].insert_one(row)
        timeline.record(self.kit.db, ctx.tenant_id, customer_id, "customer.contact_noted", now, ctx.user_id,
                        f"contact note ({note['kind']})", {"note_id": nid, "content": note["content"][:200]},
                        entry_id=ev["event_id"])
        return {"id": nid, "customer_id": customer_id, **note, "author_id": ctx.user_id, "at": now.isoformat()}

    @api
    def list_contact_notes(self, customer_id: str, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        ctx = self.kit.ctx
        registry.get_visible(self.kit, ctx, self._d(), customer_id)
        pg, size = page_args(page, page_size)
        rows = list(self.kit.db["contact_notes"].find({"tenant_id": ctx.tenant_id, "customer_id": customer_id}))
        rows.sort(key=lambda r: (store._aware(r["at"]), r["_id"]), reverse=True)
        items = [{"id": r["_id"], "customer_id": customer_id, "kind": r["kind"], "content": r["content"],
                  "contact_id": r.get("contact_id"), "author_id": r["author_id"], "at": r["at"].isoformat()}
                 for r in rows[(pg - 1) * size: pg * size]]
        return {"items": items, "total": len(rows), "page": pg, "page_size": size}

    @api
    def customer_timeline(self, customer_id: str, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        """Newest first; for admins also of a deleted customer (who deleted it, when, why)."""
        ctx = self.kit.ctx
        registry.get_audited(self.kit, ctx, self._d(), customer_id)
        pg, size = page_args(page, page_size)
        return timeline.list_entries(self.kit.db, ctx.tenant_id, customer_id, pg, size)

    # -- CBMs (vendor direct-sales contacts) -----------------------------------------------------
    @api
    def list_cbms(self, q: str | None = None, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        return cbms.list_cbms(self.kit.db, self.kit.ctx, q, page, page_size)

    @api
    def get_cbm(self, cbm_id: str) -> dict[str, Any]:
        return cbms.get_cbm(self.kit.db, self.kit.ctx, cbm_id)

    @api
    def create_cbm(self, data: dict[str, Any]) -> dict[str, Any]:
        return cbms.create_cbm(self.kit.db, self.kit.ctx, data, self.kit.now())

    @api
    def update_cbm(self, cbm_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return cbms.update_cbm(self.kit.db, self.kit.ctx, cbm_id, data, self.kit.now())

    @api
    def delete_cbm(self, cbm_id: str) -> dict[str, Any]:
        return cbms.delete_cbm(self.kit.db, self.kit.ctx, cbm_id, self.kit.now())

    # -- contacts -------------------------------------------------------------------------------
    @api
    def create_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        return contacts.create_contact(self.kit, self.kit.ctx, self._d(), data)

    @api
    def get_contact(self, contact_id: str) -> dict[str, Any]:
        return contacts.get_contact(self.kit, self.kit.ctx, self._d(), contact_id)

    @api
    def update_contact(self, contact_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return contacts.update_contact(self.kit, self.kit.ctx, self._d(), contact_id, data)

    @api
    def delete_contact(self, contact_id: str) -> dict[str, Any]:
        return contacts.delete_contact(self.kit, self.kit.ctx, self._d(), contact_id)

    @api
    def list_contacts(self, q: str | None = None, tag: str | None = None, scope: str | None = None,
                      customer_id: str | None = None, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        return contacts.list_contacts(self.kit, self.kit.ctx, self._d(), q, tag, scope, customer_id, page,
                                      page_size)

    @api
    def contact_tier(self) -> dict[str, Any]:
        return contacts.tier_of(self.kit.db, self.kit.ctx)

    @api
    def set_contact_tier(self, data: dict[str, Any]) -> dict[str, Any]:
        return contacts.set_tier(self.kit.db, self.kit.ctx, (data or {}).get("tier") if isinstance(data, dict)
                                 else None)

    @api
    def contact_import_template(self) -> dict[str, Any]:
        _ = self.kit.ctx
        return _file("contacts-import-template.xlsx", contact_sheets.template_bytes())

    @api
    def upload_part(self, upload_id: str, index: int, data_b64: str) -> dict[str, Any]:
        """One part (≤ 1 MiB) of a workbook being uploaded; the import RPCs then name it."""
        ctx = self.kit.ctx
        return uploads.store_part(self.kit.db, ctx.tenant_id, ctx.user_id, upload_id, index, data_b64,
                                  self.kit.now())

    @api
    def contact_import_check(self, file_b64: str | None = None, upload_id: str | None = None,
                             parts: int | None = None) -> dict[str, Any]:
        ctx, d = self.kit.ctx, self._d()
        parsed = _parsed(self.kit, contact_sheets.parse_contacts, file_b64, upload_id, parts, catalog.require_admin)
        contact_sheets.resolve(self.kit, ctx, d, parsed)  # every problem, also in a mixed file
        return imports.report(parsed)

    @api
    def import_contacts(self, file_b64: str | None = None, upload_id: str | None = None,
                        parts: int | None = None) -> dict[str, Any]:
        ctx, d = self.kit.ctx, self._d()
        parsed = _parsed(self.kit, contact_sheets.parse_contacts, file_b64, upload_id, parts, catalog.require_admin)
        return contact_sheets.run_import(self.kit, ctx, d, parsed)

    # -- tags and custom fields -------------------------------------------------------------------
    @api
    def list_tag_groups(self) -> list[dict[str, Any]]:
        return catalog.list_tag_groups(self.kit.db, self.kit.ctx)

    @api
    def create_tag_group(self, data: dict[str, Any]) -> dict[str, Any]:
        return catalog.create_tag_group(self.kit.db, self.kit.ctx, data)

    @api
    def update_tag_group(self, group_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return catalog.update_tag_group(self.kit.db, self.kit.ctx, group_id, data)

    @api
    def delete_tag_group(self, group_id: str) -> dict[str, Any]:
        return catalog.delete_tag_group(self.kit.db, self.kit.ctx, group_id)

    @api
    def list_custom_fields(self, entity: str | None = None) -> list[dict[str, Any]]:
        return catalog.list_custom_fields(self.kit.db, self.kit.ctx, entity)

    @api
    def create_custom_field(self, data: dict[str, Any]) -> dict[str, Any]:
        return catalog.create_custom_field(self.kit.db, self.kit.ctx, data)

    @api
    def delete_custom_field(self, field_id: str) -> dict[str, Any]:
        return catalog.delete_custom_field(self.kit.db, self.kit.ctx, field_id)

    # -- import, export, map ---------------------------------------------------------------------
    @api
    def import_template(self) -> dict[str, Any]:
        _ = self.kit.ctx
        return _file("customers-import-template.xlsx", sheets.template_bytes())

    @api
    def import_check(self, file_b64: str | None = None, upload_id: str | None = None,
                     parts: int | None = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        self._d()
        parsed = _parsed(self.kit, sheets.parse_upload, file_b64, upload_id, parts, registry.require_entry_role)
        imports.tenant_duplicates(self.kit.db, ctx.tenant_id, parsed)  # every problem, also in a mixed file
        return imports.report(parsed)

    @api
    def import_customers(self, file_b64: str | None = None, upload_id: str | None = None,
                         parts: int | None = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        self._d()
        parsed = _parsed(self.kit, sheets.parse_upload, file_b64, upload_id, parts, registry.require_entry_role)
        return imports.run_import(self.kit, ctx, parsed, self.pool,
                                  capacity_check=lambda n: self.pool.check_capacity(owner_id=ctx.user_id, adding=n))

    @api
    def export_customers(self, owner_ids: Any = None) -> dict[str, Any]:
        ctx, d = self.kit.ctx, self._d()
        docs = registry.visible_docs(self.kit, ctx, d)
        wanted = set(_ids(owner_ids))
        if wanted:
            docs = [x for x in docs if x.get("owner_id") in wanted]
        names = d.names([x.get("owner_id") for x in docs])
        header, rows = sheets.customer_rows(docs, names, self._zone())
        return self._export("customers.xlsx", "customers", header, rows)

    @api
    def export_employee_customers(self) -> dict[str, Any]:
        ctx, d = self.kit.ctx, self._d()
        docs = registry.visible_docs(self.kit, ctx, d)
        names = d.names([u for x in docs for u in [x.get("owner_id"), *(x.get("shared_with") or [])]])
        header, rows = sheets.employee_customer_rows(docs, names)
        return self._export("employee-customers.xlsx", "employee-customers", header, rows)

    @api
    def download_part(self, download_id: str, index: int) -> dict[str, Any]:
        """One part (≤ 1 MiB, base64) of an export, for its exporter only; deleted as it is read."""
        ctx = self.kit.ctx
        return downloads.take_part(self.kit.db, ctx.tenant_id, ctx.user_id, download_id, index)

    @api
    def _test_fail_write(self, name: str, fail: bool = True) -> dict[str, Any]:
        """Test hook: make a named write fail (``create``: the customer write after the pool's entry)."""
        self.kit.require_test_hooks()
        registry.TEST_FAIL_WRITE[str(name)] = bool(fail)
        return dict(registry.TEST_FAIL_WRITE)

    @api
    def _test_set_download_part_bytes(self, part_bytes: int | None = None) -> dict[str, Any]:
        """Test hook (``CRM_TEST_HOOKS=1`` only): the part size of later exports; ``None`` restores 1 MiB."""
        self.kit.require_test_hooks()
        return {"part_bytes": downloads.set_part_bytes(part_bytes)}

    @api
    def customer_map(self, owner_ids: Any = None) -> dict[str, Any]:
        ctx, d = self.kit.ctx, self._d()
        docs = registry.visible_docs(self.kit, ctx, d)
        wanted = set(_ids(owner_ids))
        if wanted:
            docs = [x for x in docs if x.get("owner_id") in wanted]
        return sheets.geojson(docs)

    # -- events ------------------------------------------------------------------------------------
    @subscribe("identity", "employee.left")
    def on_employee_left(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        emp = data.get("employee_id")
        if not emp:
            return
        ctx = self.kit.act_as_system(event["tenant_id"], event.get("request_id") or event["event_id"])
        ownership.handover(self.kit, ctx, Directory(self.identity, ctx), self.pool, str(emp),
                           data.get("handover_to"))

    @subscribe("customers", "customer.owner_changed")
    def on_owner_changed(self, event: dict[str, Any]) -> None:
        """The pool's moves (claims, releases, reclaims, ...) reach the copy of the owner."""
        ownership.on_owner_changed(self.kit, event)

    @subscribe("visits", "visit.checked_in")
    def on_visit_checked_in(self, event: dict[str, Any]) -> None:
        self._timeline_from(event)

    @subscribe("visits", "visit.completed")
    def on_visit_completed(self, event: dict[str, Any]) -> None:
        self._timeline_from(event)

    def _timeline_from(self, event: dict[str, Any]) -> None:
        entry = timeline.entry_from_event(event)
        if entry is None:
            return
        from crmkit.clock import parse_iso
        try:
            at = parse_iso(event.get("occurred_at")) if event.get("occurred_at") else self.kit.now()
        except (TypeError, ValueError):
            at = self.kit.now()
        timeline.record(self.kit.db, event["tenant_id"], entry["customer_id"], entry["kind"], at,
                        event.get("actor_id"), entry["summary"], entry["data"], entry_id=event["event_id"])
