"""The tenant's visit settings: read by anyone in the tenant, changed by its admin."""
from __future__ import annotations

from typing import Any

from crmkit.context import CallContext
from crmkit.errors import Forbidden
from visits import inputs
from visits.store import Store


def get(store: Store, ctx: CallContext) -> dict[str, Any]:
    return store.settings(ctx.tenant_id)


def update(store: Store, ctx: CallContext, changes: Any) -> dict[str, Any]:
    if not ctx.has_role("tenant_admin", "system", "operator"):
        raise Forbidden("settings.forbidden", "only the tenant admin changes visit settings")
    return store.save_settings(ctx.tenant_id, inputs.obj(changes, "changes", code="settings.invalid"))
