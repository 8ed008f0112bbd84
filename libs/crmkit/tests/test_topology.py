from __future__ import annotations

import ast
from pathlib import Path

from crmkit.topology import SUBSCRIPTIONS, Subscription, parse

ROOT = Path(__file__).resolve().parents[3]


def test_queue_names_match_nameko():
    s = parse("customers:customer.created:pool:on_customer_created")
    assert s == Subscription("customers", "customer.created", "pool", "on_customer_created")
    assert s.queue == "evt-customers-customer.created--pool.on_customer_created"


def _declared_handlers() -> set[tuple[str, str, str, str]]:
    """Every @subscribe("source", "type") on a method of a service's service.py."""
    found = set()
    for path in ROOT.glob("services/*/*/*.py"):
        service = path.parent.name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                if (isinstance(dec, ast.Call) and getattr(dec.func, "id", getattr(dec.func, "attr", "")) == "subscribe"
                        and len(dec.args) >= 2 and all(isinstance(a, ast.Constant) for a in dec.args[:2])):
                    found.add((dec.args[0].value, dec.args[1].value, service, node.name))
    return found


def test_every_subscribe_is_in_the_topology_so_its_queue_exists_before_the_first_publish():
    listed = {(s.source, s.event_type, s.service, s.method) for s in SUBSCRIPTIONS}
    missing = _declared_handlers() - listed
    assert not missing, f"add these to libs/crmkit/crmkit/subscriptions/<service>.txt: {sorted(missing)}"
