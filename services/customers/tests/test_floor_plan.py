"""The floor plan of the customers service (issue 16 item 2), checked on its source.

``service.py`` holds nameko entrypoints only: each method is a few statements, with no loop,
no comprehension, no subscript and no database access — it checks its arguments, calls one
function of a use-case module and returns. The storage provider lives in ``store.py``, which
is the only module that reaches the database itself (the use cases take its ``Store``) and the
only one that creates indexes; no module types the worker kit as ``Any``."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "customers"
SERVICE = PKG / "service.py"
MAX_STATEMENTS = 6
#: reaching the database other than through the ``Store`` (tests/layout/test_floor_plan.py's pattern)
RAW_DB = re.compile(r"\bkit\.db\b|\bdb\[|\.service_db\(|MongoClient\(|create_index\(")


def _service_class() -> ast.ClassDef:
    tree = ast.parse(SERVICE.read_text())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert [c.name for c in classes] == ["CustomersService"], "service.py holds the service class only"
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert functions == [], f"module-level functions in service.py: {[f.name for f in functions]}"
    return classes[0]


def _methods() -> list[ast.FunctionDef]:
    return [n for n in _service_class().body if isinstance(n, ast.FunctionDef)]


def _body(fn: ast.FunctionDef) -> list[ast.stmt]:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def _chain(node: ast.expr) -> list[str]:
    """``self.store.db.find`` -> ["self", "store", "db", "find"]."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    return names[::-1]


def test_every_method_of_the_service_is_a_short_entrypoint() -> None:
    methods = _methods()
    assert len(methods) > 40
    for fn in methods:
        body = _body(fn)
        assert 1 <= len(body) <= MAX_STATEMENTS, f"{fn.name}: {len(body)} statements"
        for node in (n for stmt in body for n in ast.walk(stmt)):  # the code, not the annotations
            assert not isinstance(node, ast.For | ast.While | ast.AsyncFor | ast.comprehension | ast.Lambda), \
                f"{fn.name}: a loop or a lambda in an entrypoint (line {getattr(node, 'lineno', '?')})"
            assert not isinstance(node, ast.Subscript | ast.If | ast.Try | ast.With), \
                f"{fn.name}: a subscript or a decision in an entrypoint (line {node.lineno})"
            if isinstance(node, ast.Call):
                chain = _chain(node.func)
                assert chain[:2] != ["self", "store"], f"{fn.name}: calls the store itself (line {node.lineno})"
                assert chain[:3] != ["self", "kit", "db"], f"{fn.name}: calls the kit's database (line {node.lineno})"
            if isinstance(node, ast.Attribute) and node.attr == "db":
                assert _chain(node) == ["self", "store", "db"], f"{fn.name}: reaches a database (line {node.lineno})"


def test_every_entrypoint_is_decorated_and_helpers_are_few() -> None:
    plain = [fn.name for fn in _methods() if not fn.decorator_list]
    assert plain == ["_d"], f"undecorated methods in the service: {plain}"


def test_the_store_is_the_one_storage_provider_and_the_only_place_indexes_are_made() -> None:
    src = SERVICE.read_text()
    assert re.search(r"^    store = CustomersStore\(\)$", src, re.M)
    for path in sorted(PKG.glob("*.py")):
        text = path.read_text()
        if path.name != "store.py":
            assert "create_index" not in text, f"{path.name} creates an index"
            assert "service_db(" not in text and "MongoClient" not in text, f"{path.name} opens a database"
    assert "class CustomersStore(Dependency[Store])" in (PKG / "store.py").read_text()


def test_no_module_types_the_kit_as_any_and_only_the_store_reaches_the_database() -> None:
    modules = sorted(PKG.glob("*.py"))
    assert len(modules) > 20 and (PKG / "store.py") in modules
    raw = []
    for path in modules:
        text = path.read_text()
        assert "kit: Any" not in text, f"{path.name}: kit typed as Any"
        if path.name != "store.py":
            raw += [f"{path.name}:{i}" for i, line in enumerate(text.splitlines(), 1) if RAW_DB.search(line)]
    assert not raw, f"the database reached outside store.py (take a Store): {raw}"


def test_the_raw_database_pattern_sees_what_it_forbids() -> None:
    for line in ('kit.db["customers"].find({})', 'db["timeline"].insert_one(row)', "service_db.service_db('x')",
                 "pymongo.MongoClient(uri)", "coll.create_index([('a', 1)])"):
        assert RAW_DB.search(line), line
    assert not RAW_DB.search("store.customers.find({})") and not RAW_DB.search("store.by_id('customers', cid)")
