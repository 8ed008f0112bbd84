"""The query tables of the services' READMEs, from the queries the request paths really send.

    FERRET_PORT=27019 .venv/bin/python -m tests.database.audit

runs ``test_request_queries.py`` and prints, per service, every distinct query its request
paths sent (the function of the service that sent it, the collection, the filter's fields
and operators) and what served it on this server: the ``_id`` key or the declared index
(by its MongoDB key), as the explain showed.
"""
from __future__ import annotations

import re
import sys
from typing import Any

import pytest

from tests.database import capture, plans

_PG_HASH = re.compile(r"_(?P<hash>[0-9a-f]{8})_(idx|gin)$")


def _fnv32a(text: str) -> int:
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def index_key(db: Any, collection: str, name: str) -> str:
    """The MongoDB key (``tenant_id, owner_id``) of the index a plan names: MongoDB names it;
    FerretDB's PostgreSQL name ends in the FNV-1a hash of the index's MongoDB name."""
    info = db[collection].index_information()
    if name in info:
        return ", ".join(f for f, _ in info[name]["key"])
    m = _PG_HASH.search(name)
    if m:
        hits = [k for k in info if f"{_fnv32a(k):08x}" == m.group("hash")]
        if len(hits) == 1:
            return ", ".join(f for f, _ in info[hits[0]]["key"])
    return name


def served(db_of: Any, q: capture.Query) -> str:
    by = capture.served_by(db_of, q)
    if by == "_id" or by.startswith("FULL SCAN"):
        return f"`{by}`" if by == "_id" else f"**{by}**"
    e = db_of(q.database).command("explain", {"find": q.collection, "filter": q.filter})
    keys = dict.fromkeys(index_key(db_of(q.database), q.collection, n) for n in plans.index_names(e))
    return " + ".join(f"`({k})`" for k in keys)


class Collector:
    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[str, str, str, str], str]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        from tests.database import test_request_queries as T

        original = T.Platform.check
        rows = self.rows

        def check(platform: Any, queries: list[capture.Query]) -> None:
            original(platform, queries)
            for q in queries:
                service = q.database.rsplit("_", 1)[-1]
                key = (q.path or "(kit)", q.collection, q.command, capture.shape(q.filter))
                if key not in rows.setdefault(service, {}):
                    rows[service][key] = served(platform.db_of, q)

        T.Platform.check = check  # type: ignore[method-assign]
        try:
            yield
        finally:
            T.Platform.check = original  # type: ignore[method-assign]


def main() -> int:
    collector = Collector()
    rc = pytest.main(["-q", "-p", "no:warnings", "tests/database/test_request_queries.py"], plugins=[collector])
    for service in sorted(collector.rows):
        print(f"\n### {service}\n")
        print("| request path (function) | collection | command | filter | served by |")
        print("|---|---|---|---|---|")
        for (path, coll, cmd, shape), by in sorted(collector.rows[service].items()):
            print(f"| `{path}` | `{coll}` | {cmd} | `{shape}` | {by} |")
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
