"""The floor plan of the visits service (issue 16 item 2), checked on the source: the
entrypoint modules (``service.py`` and the reports' ``report_entrypoints.py``) hold only
short entrypoint methods that call one use-case function; the database is reached through
``store.py`` only; the worker kit is typed."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "visits"
ENTRYPOINT_MODULES = ("service.py", "report_entrypoints.py")
MAX_STATEMENTS = 6
#: the entrypoint decorators of nameko (and the kit's) that make a method an entrypoint
ENTRYPOINTS = {"api", "rpc", "subscribe", "timer"}
#: the Store's collections: an entrypoint never calls a collection method itself
COLLECTION_CALLS = {"find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
                    "delete_one", "delete_many", "count_documents", "aggregate", "create_index"}


def _sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(PKG.glob("*.py"))}


def _decorator_name(d: ast.expr) -> str:
    target = d.func if isinstance(d, ast.Call) else d
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _methods(module: str) -> list[tuple[str, ast.FunctionDef]]:
    tree = ast.parse((PKG / module).read_text(encoding="utf-8"))
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert classes, f"{module} declares the service class"
    return [(f"{c.name}.{m.name}", m) for c in classes for m in c.body if isinstance(m, ast.FunctionDef)]


def _body(fn: ast.FunctionDef) -> list[ast.stmt]:
    """The statements, without a docstring."""
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body


@pytest.mark.parametrize("module", ENTRYPOINT_MODULES)
def test_entrypoint_modules_hold_only_short_entrypoints(module: str) -> None:
    methods = _methods(module)
    assert methods
    for name, fn in methods:
        decorators = {_decorator_name(d) for d in fn.decorator_list}
        assert decorators & ENTRYPOINTS, f"{name} is not an entrypoint (helpers live in a use-case module)"
        body = _body(fn)
        count = sum(1 for stmt in body for _ in ast.walk(stmt) if isinstance(_, ast.stmt))
        assert count <= MAX_STATEMENTS, f"{name}: {count} statements (at most {MAX_STATEMENTS})"
        for node in (n for stmt in body for n in ast.walk(stmt)):
            assert not isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.comprehension)), \
                f"{name} loops over data"
            assert not isinstance(node, (ast.Try, ast.If)), f"{name} decides (a use case's job)"
            if isinstance(node, ast.Attribute):
                assert node.attr != "db", f"{name} reaches the database"
                assert node.attr not in COLLECTION_CALLS, f"{name} calls a collection ({node.attr})"


@pytest.mark.parametrize("module", ENTRYPOINT_MODULES)
def test_entrypoint_modules_define_no_functions_of_their_own(module: str) -> None:
    tree = ast.parse((PKG / module).read_text(encoding="utf-8"))
    funcs = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert funcs == [], f"{module}: module-level functions {funcs} belong in a use-case module"


def test_the_database_is_reached_through_store_only() -> None:
    offenders = []
    for name, text in _sources().items():
        if name == "store.py":
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if re.search(r"kit\.db\b|\bdb\[|\.db\[|\bDatabase\b|service_db\(", line):
                offenders.append(f"{name}:{n}: {line.strip()}")
    assert offenders == []


def test_one_storage_provider_and_indexes_in_store_only() -> None:
    sources = _sources()
    providers = [name for name, text in sources.items() if re.search(r"DependencyProvider|Dependency\[", text)]
    assert providers == ["store.py"]
    creators = [name for name, text in sources.items() if "create_index" in text]
    assert creators == ["store.py"]
    assert "class VisitsStore(Dependency[Store])" in sources["store.py"]
    for module in ENTRYPOINT_MODULES:
        assert "store = VisitsStore()" in sources[module]


def test_the_kit_is_typed() -> None:
    offenders = [f"{name}: {m.group(0)}" for name, text in _sources().items()
                 for m in re.finditer(r"\bkit: Any\b|\bdb: Any\b|\bkit: Any =", text)]
    assert offenders == []
