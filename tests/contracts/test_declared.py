"""Static scans of the tree: every event a service emits or subscribes to, every subscription
line and every call one service makes on another is declared in ``contracts``; the README
tables are the ones ``python -m contracts.docs`` generates."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import contracts
from contracts import docs

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "customers", "pool", "visits", "notify")


def _modules(service: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / "services" / service / service).rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _strings(node: ast.AST, scope: ast.AST, module: ast.Module) -> set[str]:
    """The event names an argument can take: a literal, both branches of ``a if c else b``, or
    every literal assigned to a local name (a module-level dict's values when it is looked up)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, scope, module) | _strings(node.orelse, scope, module)
    if isinstance(node, ast.Name):
        out: set[str] = set()
        for n in ast.walk(scope):
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets):
                out |= _strings(n.value, scope, module)
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
            and isinstance(node.func.value, ast.Name):
        table = node.func.value.id
        for n in module.body:
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == table for t in n.targets) \
                    and isinstance(n.value, ast.Dict):
                return {v.value for v in n.value.values if isinstance(v, ast.Constant)}
    return set()


def emitted(service: str) -> dict[str, list[str]]:
    """event name -> where ``kit.event(...)`` (or identity's ``_employee_event``) builds it."""
    out: dict[str, list[str]] = {}
    for path, module in _modules(service):
        for fn in ast.walk(module):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for call in ast.walk(fn):
                if not isinstance(call, ast.Call) or not call.args:
                    continue
                f = call.func
                if isinstance(f, ast.Attribute) and f.attr == "event" and not (
                        isinstance(f.value, ast.Name) and f.value.id == "self"):
                    arg = call.args[0]
                elif isinstance(f, ast.Name) and f.id == "_employee_event" and len(call.args) > 1:
                    arg = call.args[1]
                else:
                    continue
                names = _strings(arg, fn, module)
                if isinstance(arg, ast.Name) and not names and any(a.arg == arg.id for a in fn.args.args):
                    continue  # a helper's parameter: its callers are scanned
                assert names, f"{path.relative_to(ROOT)}:{call.lineno}: cannot tell which event this builds"
                for n in names:
                    out.setdefault(n, []).append(f"{path.relative_to(ROOT)}:{call.lineno}")
    return out


def test_the_scan_finds_the_events_built_indirectly() -> None:
    assert {"pool.claimed", "pool.released", "pool.reclaimed", "pool.claim_request_approved",
            "pool.claim_request_rejected"} <= set(emitted("pool"))
    assert {"employee.disabled", "employee.enabled", "employee.updated", "employee.created"} <= set(emitted("identity"))
    assert "report.export_ready" in emitted("visits")


def test_every_event_a_service_builds_is_declared_as_its_own() -> None:
    problems = []
    for service in SERVICES:
        for name, where in emitted(service).items():
            spec = contracts.EVENTS.get(name)
            if spec is None:
                problems.append(f"{name} ({', '.join(where)}) is not declared in libs/contracts")
            elif spec.producer != service:
                problems.append(f"{name} ({', '.join(where)}) is declared as {spec.producer}'s")
    assert not problems, "\n".join(problems)


def test_every_declared_event_is_built_by_its_producer() -> None:
    built = {(svc, n) for svc in SERVICES for n in emitted(svc)}
    stale = [n for n, s in contracts.EVENTS.items() if (s.producer, n) not in built]
    assert not stale, f"declared but never emitted by their producer: {stale}"


def _subscribes() -> Iterator[tuple[str, str, str, int]]:
    for service in SERVICES:
        for path, module in _modules(service):
            for node in ast.walk(module):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "subscribe":
                    source, etype = (a.value for a in node.args[:2] if isinstance(a, ast.Constant))
                    yield source, etype, str(path.relative_to(ROOT)), node.lineno


def test_every_subscription_is_to_a_declared_event_of_its_source() -> None:
    subs = list(_subscribes())
    assert len(subs) > 40
    lines = [(src, et, f"subscriptions:{svc}.{m}", 0) for src, et, svc, m in docs.subscriptions()]
    problems = []
    for source, etype, where, line in subs + lines:
        spec = contracts.EVENTS.get(etype)
        if spec is None:
            problems.append(f"{where}:{line}: {etype} is not declared")
        elif spec.exchange != source:
            problems.append(f"{where}:{line}: {etype} travels on {spec.exchange}'s exchange, not {source}'s")
    assert not problems, "\n".join(problems)


def calls(service: str) -> dict[tuple[str, str], list[str]]:
    """(target service, method) -> where this service calls it through a ``TimedRpc`` proxy
    (``self.<proxy>.m(...)``, or a proxy handed on under its own or its target's name)."""
    proxies: dict[str, str] = {}
    for _path, module in _modules(service):
        for node in ast.walk(module):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                    isinstance(node.value.func, ast.Name) and node.value.func.id == "TimedRpc":
                target = node.value.args[0]
                if isinstance(target, ast.Call):  # os.environ.get("VAR", "customers")
                    target = target.args[-1]
                assert isinstance(target, ast.Constant), ast.dump(node)
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        proxies[t.id] = target.value
    names = {**proxies, **{t: t for t in proxies.values()}}
    out: dict[tuple[str, str], list[str]] = {}
    for path, module in _modules(service):
        # a local bound to something else (``pool = eventlet.GreenPool()``) is no proxy
        local = {t.id for n in ast.walk(module) if isinstance(n, ast.Assign) for t in n.targets
                 if isinstance(t, ast.Name) and not (isinstance(n.value, ast.Call) and
                                                     isinstance(n.value.func, ast.Name) and
                                                     n.value.func.id == "TimedRpc")}
        for node in ast.walk(module):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            recv, method = node.func.value, node.func.attr
            if isinstance(recv, ast.Attribute) and isinstance(recv.value, ast.Name) and recv.value.id == "self":
                target = proxies.get(recv.attr)
            elif isinstance(recv, ast.Name) and recv.id not in local:
                target = names.get(recv.id)
            else:
                target = None
            if target is None or target == service or method.startswith("_"):
                continue
            out.setdefault((target, method), []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return out


def test_every_call_between_services_is_declared_with_its_callers() -> None:
    found = {svc: calls(svc) for svc in SERVICES}
    assert ("pool", "enter") in found["customers"] and ("identity", "holders") in found["customers"]
    problems = []
    for svc, made in found.items():
        for key, where in made.items():
            spec = contracts.RPCS.get(key)
            if spec is None:
                problems.append(f"{svc} calls {key[0]}.{key[1]} ({', '.join(where)}): not declared")
            elif svc not in spec.callers:
                problems.append(f"{svc} calls {key[0]}.{key[1]} ({', '.join(where)}): not among its callers")
    for key, spec in contracts.RPCS.items():
        for caller in spec.callers:
            if key not in found.get(caller, {}):
                problems.append(f"{key[0]}.{key[1]} names {caller} as a caller, which never calls it")
    assert not problems, "\n".join(problems)


def test_every_readme_message_table_is_current() -> None:
    assert docs.main(["--check", "--root", str(ROOT)]) == 0, "run: python -m contracts.docs"
