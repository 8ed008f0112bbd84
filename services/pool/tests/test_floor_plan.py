"""The pool keeps the floor plan (issue 16 item 2): ``service.py`` holds entrypoints only,
each a few statements without loops or database work; the database is reached through
``store.py`` only; the worker kit is typed."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "pool"
MAX_STATEMENTS = 6


def _methods() -> list[ast.FunctionDef]:
    tree = ast.parse((PKG / "service.py").read_text())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PoolService"]
    assert len(classes) == 1
    return [n for n in classes[0].body if isinstance(n, ast.FunctionDef)]


def _statements(body: list[ast.stmt]) -> int:
    n = 0
    for st in body:
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant) and isinstance(st.value.value, str):
            continue  # the docstring
        n += 1
        for field in ("body", "orelse", "finalbody"):
            n += _statements(getattr(st, field, []) or [])
    return n


def test_every_method_of_the_service_is_an_entrypoint_of_a_few_statements() -> None:
    methods = _methods()
    assert len(methods) > 20
    for fn in methods:
        decorators = [ast.unparse(d) for d in fn.decorator_list]
        assert decorators, f"{fn.name} is no entrypoint (api, rpc, subscribe, timer)"
        assert any(re.match(r"(api|rpc|subscribe|timer)\b", d) for d in decorators), (fn.name, decorators)
        assert _statements(fn.body) <= MAX_STATEMENTS, f"{fn.name}: {_statements(fn.body)} statements"
        for node in ast.walk(fn):
            assert not isinstance(node, (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.DictComp,
                                         ast.SetComp, ast.GeneratorExp)), f"{fn.name} loops over data"
            if isinstance(node, ast.Attribute):
                chain = ast.unparse(node)
                assert not chain.startswith(("self.kit.db", "self.store.")), f"{fn.name} reaches {chain}"


def test_the_database_is_reached_through_store_py_only() -> None:
    for path in sorted(PKG.glob("*.py")):
        if path.name == "store.py":
            continue
        text = path.read_text()
        for pattern in (r"\bkit\.db\b", r"\bdb\[", r"\.service_db\(", r"MongoClient", r"create_index"):
            assert not re.search(pattern, text), f"{path.name} has {pattern}"


def test_the_kit_and_the_store_are_typed() -> None:
    for path in sorted(PKG.glob("*.py")):
        text = path.read_text()
        assert not re.search(r"\bkit: Any\b", text), f"{path.name}: kit: Any"
        assert not re.search(r"\bstore: Any\b|\bdb: Any\b", text), path.name
        if path.name != "store.py":  # the store wraps the database; everyone else holds the store
            assert not re.search(r"\bDatabase\b", text), path.name
    service = (PKG / "service.py").read_text()
    assert re.search(r"^    store = PoolStore\(\)$", service, re.M)
    assert "class PoolStore(Dependency[Store])" in (PKG / "store.py").read_text()
