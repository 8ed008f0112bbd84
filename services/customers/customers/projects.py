"""Projects of a vendor customer (项目): listed and added by whoever sees the customer."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.context import CallContext
from customers import catalog, registry
from customers.peers import Directory
from customers.store import Store

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit


def projects_of(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, customer_id: str) -> list[dict[str, Any]]:
    registry.get_visible(store, ctx, d, customer_id)
    return catalog.list_projects(store, ctx, customer_id)


def add_project(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, customer_id: str, data: Any
                ) -> dict[str, Any]:
    doc = registry.get_visible(store, ctx, d, customer_id)
    return catalog.create_project(store, ctx, doc, data, kit.now())
