"""Nameko entrypoints of the customers service: each checks its arguments (``inputs``),
calls one function of a use-case module and returns its answer."""
from __future__ import annotations

from typing import Any

from nameko.timer import timer

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
    events,
    exports,
    imports,
    inputs,
    lifecycle,
    notes,
    ownership,
    projects,
    registry,
    uploads,
)
from customers.peers import Directory
from customers.store import CustomersStore


class CustomersService(BaseService):
    name = "customers"
    kit = Kit("customers")
    store = CustomersStore()
    identity = TimedRpc("identity", timeout=5)
    pool = TimedRpc("pool", timeout=5)
    visits = TimedRpc("visits", timeout=5)

    @timer(interval=600)
    def _purge_uploads(self) -> None:
        """Parts of uploads that were never imported and of downloads never finished
        (abandoned) go after an hour."""
        uploads.purge_abandoned(self.store, self.kit.now())

    def _d(self) -> Directory:
        """What this call asks identity (one per call, its answers cached)."""
        return Directory(self.identity, self.kit.ctx)

    # -- duplicate check and customers ---------------------------------------------------------
    @api
    def duplicate_check(self, data: dict[str, Any], exclude_customer_id: str | None = None) -> dict[str, Any]:
        """``exclude_customer_id``: check a claim or billing change of that record against all others."""
        return registry.duplicate_check(self.store, self.kit.ctx, self._d(), data, inputs.short_id(exclude_customer_id))

    @api
    def existing_customers(self, customer_ids: Any) -> dict[str, Any]:
        """Which of ``customer_ids`` (at most 500) have a record, deleted ones included: the
        pool's sweep of orphaned entries asks. Callers with the ``system`` role only."""
        return ownership.existing(self.store, self.kit.ctx, inputs.ids(customer_ids))

    @api
    def create_customer(self, data: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        return registry.create_customer(self.kit, self.store, ctx, self._d(), data, idempotency_key, pool=self.pool)

    @api
    def get_customer(self, customer_id: str) -> dict[str, Any]:
        return registry.get_customer(self.store, self.kit.ctx, self._d(), customer_id)

    @api
    def list_customers(self, q: str | None = None, owner_id: str | None = None, grade: str | None = None,
                       tag: str | None = None, kind: str | None = None, page: Any = 1, page_size: Any = 50,
                       dept_id: str | None = None, unowned: Any = None) -> dict[str, Any]:
        return registry.list_customers(self.store, self.kit.ctx, self._d(), q, owner_id, grade, tag, kind, page,
                                       page_size, dept_id=dept_id, unowned=unowned)

    @api
    def handover_preview(self, owner_id: str) -> dict[str, Any]:
        return registry.handover_preview(self.store, self.kit.ctx, self._d(), owner_id)

    @api
    def update_customer(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return registry.update_customer(self.kit, self.store, self.kit.ctx, self._d(), customer_id, data)

    @api
    def delete_customer(self, customer_id: str, reason: str | None = None) -> dict[str, Any]:
        return lifecycle.delete_customer(self.kit, self.store, self.kit.ctx, self._d(), self.pool, customer_id, reason)

    @api
    def list_deleted_customers(self, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        return lifecycle.list_deleted(self.store, self.kit.ctx, self._d(), page, page_size)

    @api
    def restore_customer(self, customer_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return lifecycle.restore_customer(self.kit, self.store, self.kit.ctx, self._d(), self.pool, customer_id, data)

    @api
    def visible_customer_ids(self, owner_ids: Any = None) -> list[str]:
        ctx = self.kit.ctx
        return registry.visible_customer_ids(self.store, ctx, self._d(), inputs.ids(owner_ids))

    # -- ownership, sharing, departments -------------------------------------------------------
    @api
    def change_owner(self, customer_id: str, expected_owner_id: str | None, new_owner_id: str | None,
                     path: str, reason: str | None = None) -> dict[str, Any]:
        return ownership.change_owner(self.kit, self.store, self.kit.ctx, self._d(), self.pool, customer_id,
                                      expected_owner_id, new_owner_id, path, reason)

    @api
    def transfer_customer(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Admin/dept-admin transfer to a new owner (expected owner = the current one)."""
        return ownership.transfer(self.kit, self.store, self.kit.ctx, self._d(), self.pool, customer_id, data)

    @api
    def bind_customers(self, data: dict[str, Any]) -> dict[str, Any]:
        """Bind (owner_id given: path assign) or unbind (owner_id null: back to the public pool)."""
        ctx = self.kit.ctx
        return ownership.bind(self.kit, self.store, ctx, self._d(), self.pool, inputs.data_of(data))

    @api
    def ownership_history(self, customer_id: str) -> list[dict[str, Any]]:
        """The ownership log; for admins also of a deleted customer (its delete is logged)."""
        return ownership.history(self.store, self.kit.ctx, self._d(), self.pool, customer_id)

    @api
    def share_customers(self, data: dict[str, Any]) -> dict[str, Any]:
        return ownership.share(self.kit, self.store, self.kit.ctx, self._d(), data)

    @api
    def assign_departments(self, data: dict[str, Any]) -> dict[str, Any]:
        ctx = self.kit.ctx
        return ownership.assign_departments_of(self.kit, self.store, ctx, self._d(), inputs.data_of(data))

    # -- detail: projects, notes, timeline ------------------------------------------------------
    @api
    def list_projects(self, customer_id: str) -> list[dict[str, Any]]:
        return projects.projects_of(self.kit, self.store, self.kit.ctx, self._d(), customer_id)

    @api
    def create_project(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return projects.add_project(self.kit, self.store, self.kit.ctx, self._d(), customer_id, data)

    @api
    def add_contact_note(self, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return notes.add_contact_note(self.kit, self.store, self.kit.ctx, self._d(), customer_id, data)

    @api
    def list_contact_notes(self, customer_id: str, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        ctx = self.kit.ctx
        return notes.list_contact_notes(self.kit, self.store, ctx, self._d(), customer_id, page, page_size)

    @api
    def customer_timeline(self, customer_id: str, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        """Newest first; for admins also of a deleted customer (who deleted it, when, why)."""
        ctx = self.kit.ctx
        return notes.customer_timeline(self.kit, self.store, ctx, self._d(), customer_id, page, page_size)

    # -- CBMs (vendor direct-sales contacts) -----------------------------------------------------
    @api
    def list_cbms(self, q: str | None = None, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        return cbms.list_cbms(self.store, self.kit.ctx, q, page, page_size)

    @api
    def get_cbm(self, cbm_id: str) -> dict[str, Any]:
        return cbms.get_cbm(self.store, self.kit.ctx, cbm_id)

    @api
    def create_cbm(self, data: dict[str, Any]) -> dict[str, Any]:
        return cbms.create_cbm(self.store, self.kit.ctx, data, self.kit.now())

    @api
    def update_cbm(self, cbm_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return cbms.update_cbm(self.store, self.kit.ctx, cbm_id, data, self.kit.now())

    @api
    def delete_cbm(self, cbm_id: str) -> dict[str, Any]:
        return cbms.delete_cbm(self.store, self.kit.ctx, cbm_id, self.kit.now())

    # -- contacts -------------------------------------------------------------------------------
    @api
    def create_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        return contacts.create_contact(self.kit, self.store, self.kit.ctx, self._d(), data)

    @api
    def get_contact(self, contact_id: str) -> dict[str, Any]:
        return contacts.get_contact(self.store, self.kit.ctx, self._d(), contact_id)

    @api
    def update_contact(self, contact_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return contacts.update_contact(self.kit, self.store, self.kit.ctx, self._d(), contact_id, data)

    @api
    def delete_contact(self, contact_id: str) -> dict[str, Any]:
        return contacts.delete_contact(self.kit, self.store, self.kit.ctx, self._d(), contact_id)

    @api
    def list_contacts(self, q: str | None = None, tag: str | None = None, scope: str | None = None,
                      customer_id: str | None = None, page: Any = 1, page_size: Any = 50) -> dict[str, Any]:
        return contacts.list_contacts(self.store, self.kit.ctx, self._d(), q, tag, scope, customer_id, page,
                                      page_size)

    @api
    def contact_tier(self) -> dict[str, Any]:
        return contacts.tier_of(self.store, self.kit.ctx)

    @api
    def set_contact_tier(self, data: dict[str, Any]) -> dict[str, Any]:
        return contacts.set_tier(self.store, self.kit.ctx, inputs.data_of(data).get("tier"))

    @api
    def contact_import_template(self) -> dict[str, Any]:
        _ = self.kit.ctx
        return exports.contact_template()

    @api
    def upload_part(self, upload_id: str, index: int, data_b64: str) -> dict[str, Any]:
        """One part (≤ 1 MiB) of a workbook being uploaded; the import RPCs then name it."""
        ctx = self.kit.ctx
        return uploads.store_part(self.store, ctx.tenant_id, ctx.user_id, upload_id, index, data_b64,
                                  self.kit.now())

    @api
    def contact_import_check(self, file_b64: str | None = None, upload_id: str | None = None,
                             parts: int | None = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        return contact_sheets.check_file(self.store, ctx, self._d(), file_b64, upload_id, parts)

    @api
    def import_contacts(self, file_b64: str | None = None, upload_id: str | None = None,
                        parts: int | None = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        return contact_sheets.import_file(self.kit, self.store, ctx, self._d(), file_b64, upload_id, parts)

    # -- tags and custom fields -------------------------------------------------------------------
    @api
    def list_tag_groups(self) -> list[dict[str, Any]]:
        return catalog.list_tag_groups(self.store, self.kit.ctx)

    @api
    def create_tag_group(self, data: dict[str, Any]) -> dict[str, Any]:
        return catalog.create_tag_group(self.store, self.kit.ctx, data)

    @api
    def update_tag_group(self, group_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return catalog.update_tag_group(self.store, self.kit.ctx, group_id, data)

    @api
    def delete_tag_group(self, group_id: str) -> dict[str, Any]:
        return catalog.delete_tag_group(self.store, self.kit.ctx, group_id)

    @api
    def list_custom_fields(self, entity: str | None = None) -> list[dict[str, Any]]:
        return catalog.list_custom_fields(self.store, self.kit.ctx, entity)

    @api
    def create_custom_field(self, data: dict[str, Any]) -> dict[str, Any]:
        return catalog.create_custom_field(self.store, self.kit.ctx, data)

    @api
    def delete_custom_field(self, field_id: str) -> dict[str, Any]:
        return catalog.delete_custom_field(self.store, self.kit.ctx, field_id)

    # -- import, export, map ---------------------------------------------------------------------
    @api
    def import_template(self) -> dict[str, Any]:
        _ = self.kit.ctx
        return exports.customer_template()

    @api
    def import_check(self, file_b64: str | None = None, upload_id: str | None = None,
                     parts: int | None = None) -> dict[str, Any]:
        return imports.check_file(self.store, self.kit.ctx, file_b64, upload_id, parts)

    @api
    def import_customers(self, file_b64: str | None = None, upload_id: str | None = None,
                         parts: int | None = None) -> dict[str, Any]:
        return imports.import_file(self.kit, self.store, self.kit.ctx, self.pool, file_b64, upload_id, parts)

    @api
    def export_customers(self, owner_ids: Any = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        return exports.export_customers(self.kit, self.store, ctx, self._d(), self.visits, inputs.ids(owner_ids))

    @api
    def export_employee_customers(self) -> dict[str, Any]:
        return exports.export_employee_customers(self.kit, self.store, self.kit.ctx, self._d())

    @api
    def download_part(self, download_id: str, index: int) -> dict[str, Any]:
        """One part (≤ 1 MiB, base64) of an export, for its exporter only; deleted as it is read."""
        ctx = self.kit.ctx
        return downloads.take_part(self.store, ctx.tenant_id, ctx.user_id, download_id, index)

    @api
    def _test_fail_write(self, name: str, fail: bool = True) -> dict[str, Any]:
        """Test hook: make a named write fail (``create``: the customer write after the pool's entry)."""
        self.kit.require_test_hooks()
        return registry.fail_write(name, fail)

    @api
    def _test_set_download_part_bytes(self, part_bytes: int | None = None) -> dict[str, Any]:
        """Test hook (``CRM_TEST_HOOKS=1`` only): the part size of later exports; ``None`` restores 1 MiB."""
        self.kit.require_test_hooks()
        return {"part_bytes": downloads.set_part_bytes(part_bytes)}

    @api
    def customer_map(self, owner_ids: Any = None) -> dict[str, Any]:
        ctx = self.kit.ctx
        return exports.customer_map(self.store, ctx, self._d(), inputs.ids(owner_ids))

    # -- events ------------------------------------------------------------------------------------
    @subscribe("identity", "employee.left")
    def on_employee_left(self, event: dict[str, Any]) -> None:
        events.employee_left(self.kit, self.store, self.identity, self.pool, event)

    @subscribe("customers", "customer.owner_changed")
    def on_owner_changed(self, event: dict[str, Any]) -> None:
        """The pool's moves (claims, releases, reclaims, ...) reach the copy of the owner."""
        ownership.on_owner_changed(self.store, event)

    @subscribe("visits", "visit.checked_in")
    def on_visit_checked_in(self, event: dict[str, Any]) -> None:
        events.visit_to_timeline(self.kit, self.store, event)

    @subscribe("visits", "visit.completed")
    def on_visit_completed(self, event: dict[str, Any]) -> None:
        events.visit_to_timeline(self.kit, self.store, event)
