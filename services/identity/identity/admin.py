"""Operator commands, outside any service process.

    python -m identity.admin create-tenant --code X --name Y --admin-mobile M \
        --admin-name N --admin-password P

Writes straight to the identity database (MONGO_URI, MONGO_DB_PREFIX) and stages its
events in the outbox; a running identity service's relay publishes them (signed with
CRM_CONTEXT_KEY, which must therefore be the services' key)."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from crmkit import config, messages
from crmkit.clock import Clock
from crmkit.envelope import make_event, sign_event
from crmkit.errors import CrmError
from crmkit.outbox import Check, Outbox
from identity import access
from identity.passwords import Passwords
from identity.store import Store, open_store


class CliKit:
    """The subset of the worker kit that the identity commands use."""

    def __init__(self, store: Store) -> None:
        self.key = config.context_key()
        self.clock = Clock()
        # the outbox lives in the identity database, as the Kit's
        self.outbox = Outbox(store.db, self.now, validate=messages.emit_validator("identity"))

    def now(self) -> datetime:
        return self.clock.now()

    def event(self, type: str, data: dict[str, Any], *, tenant_id: str | None = None,
              actor_id: str | None = None) -> dict[str, Any]:
        env = make_event(type, tenant_id or "", actor_id or "operator", data, occurred_at=self.now())
        return sign_event(env, self.key)

    def change(self, events: list[dict[str, Any]], check: Check | None = None) -> Any:
        return self.outbox.change(events, check)

    def emit(self, *events: dict[str, Any]) -> None:
        self.outbox.emit(list(events))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m identity.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    ct = sub.add_parser("create-tenant", help="create a tenant with its admin (joined, with this password)")
    ct.add_argument("--code", required=True)
    ct.add_argument("--name", required=True)
    ct.add_argument("--admin-mobile", required=True)
    ct.add_argument("--admin-name", required=True)
    ct.add_argument("--admin-password", required=True)
    args = parser.parse_args(argv)
    try:
        store = open_store()
        kit = CliKit(store)
        store.ensure_indexes()
        result = access.create_tenant(kit, store, Passwords(), code=args.code, name=args.name,
                                      admin_mobile=args.admin_mobile, admin_name=args.admin_name,
                                      admin_password=args.admin_password)
    except CrmError as exc:
        print(json.dumps(exc.to_body(), ensure_ascii=False), file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
