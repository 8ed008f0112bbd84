"""`make bench`: start a private stack (own vhost and databases), run each benchmark,
print figures next to their bare baselines from the same run.

    python -m bench [name ...]     names: foundation identity customers pool visits reports notify
                                   database tenants (default: all)
"""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from devstack.stack import base_env, full_stack
from tests.support import infra as infra_mod

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ("foundation", "identity", "customers", "pool", "visits", "reports", "notify", "database", "tenants")


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    with infra_mod.provide() as infra:
        prefix = f"b{uuid.uuid4().hex[:6]}_"
        env = base_env(infra.amqp_uri, infra.mongo_uri, MONGO_DB_PREFIX=prefix,
                       CRM_CONTEXT_KEY=uuid.uuid4().hex, JWT_SECRET=uuid.uuid4().hex,
                       OPERATOR_SECRET=uuid.uuid4().hex, CRM_TEST_HOOKS="1", LOG_LEVEL="WARNING")
        stack = full_stack(env, ROOT / ".local" / "bench-logs" / prefix)
        stack.start()
        try:
            stack.wait_ready()
            for name in names:
                module = __import__(f"bench.{name}", fromlist=["run"])
                print(f"\n== {name} ==")
                module.run(stack, infra, env)
        finally:
            stack.stop()
            import pymongo
            client = pymongo.MongoClient(infra.mongo_uri)
            for db in client.list_database_names():
                if db.startswith(prefix):
                    client.drop_database(db)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


__all__ = ["subprocess"]
