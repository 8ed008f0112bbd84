"""One floor plan for every service (STYLE 17, issue 16 item 2): the same file names for the
same roles; ``service.py`` holds nameko entrypoints only (check the arguments, call one function,
return); the database is reached only through ``store.py``'s storage provider; the worker kit
is typed; ``mypy --strict`` covers the package. A service joins ``DONE`` when it follows it."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DONE = ["customers", "identity", "notify", "pool", "visits"]
ROLES = ("service.py", "store.py", "rules.py")
MAX_STATEMENTS = 6


def _package(service: str) -> Path:
    return ROOT / "services" / service / service


@pytest.mark.parametrize("service", DONE)
def test_the_same_files_hold_the_same_roles(service: str) -> None:
    missing = [name for name in ROLES if not (_package(service) / name).exists()]
    assert not missing, f"{service}: no {missing}"
    assert not [p.name for p in _package(service).glob("*.py") if p.stem in ("utils", "helpers", "misc", "common")]


@pytest.mark.parametrize("service", DONE)
def test_service_py_holds_thin_entrypoints_only(service: str) -> None:
    tree = ast.parse((_package(service) / "service.py").read_text())
    problems = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and \
                isinstance(fn.body[0].value, ast.Constant) else fn.body
            if len(body) > MAX_STATEMENTS:
                problems.append(f"{cls.name}.{fn.name}: {len(body)} statements")
            for node in ast.walk(fn):
                if isinstance(node, ast.For | ast.While | ast.AsyncFor):
                    problems.append(f"{cls.name}.{fn.name}: a loop at line {node.lineno}")
                if isinstance(node, ast.Attribute) and node.attr == "db":
                    problems.append(f"{cls.name}.{fn.name}: reaches the database at line {node.lineno}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("service", DONE)
def test_only_store_py_reaches_the_database(service: str) -> None:
    pattern = re.compile(r"\bkit\.db\b|\bdb\[|\.service_db\(|MongoClient\(|create_index\(")
    hits = [f"{p.name}:{i}" for p in sorted(_package(service).glob("*.py")) if p.name != "store.py"
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


@pytest.mark.parametrize("service", DONE)
def test_the_worker_kit_is_typed_and_mypy_strict_covers_the_package(service: str) -> None:
    untyped = [f"{p.name}:{i}" for p in sorted(_package(service).glob("*.py"))
               for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bkit: Any\b", line)]
    assert not untyped, untyped
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["strict"] is True and f"services/{service}/{service}" in mypy["files"]
