"""The database server itself: the session's server (infra), a private SQLite-backed FerretDB
from the same build, a fresh database per test, documents to plan over and their plans."""
from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from pymongo.collection import Collection
from pymongo.database import Database

from devstack.stack import free_port
from tests.database import plans
from tests.support import infra as infra_mod
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def server(infra: infra_mod.Infra) -> Iterator[pymongo.MongoClient]:
    client: pymongo.MongoClient = pymongo.MongoClient(infra.mongo_uri, tz_aware=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def backend(server: pymongo.MongoClient) -> str:
    """postgresql / sqlite (FerretDB's backends) or mongodb, from an explain's shape."""
    db = server[f"dbprobe_{uuid.uuid4().hex[:8]}"]
    try:
        db.probe.insert_one({"_id": "p"})
        return plans.backend(explain(db.probe, {"_id": "p"}))
    finally:
        server.drop_database(db.name)


@pytest.fixture
def db(server: pymongo.MongoClient) -> Iterator[Database]:
    d = server[f"dbt_{uuid.uuid4().hex[:10]}"]
    yield d
    server.drop_database(d.name)


@pytest.fixture(scope="session")
def sqlite_ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pymongo.MongoClient]:
    """The built FerretDB binary on its SQLite backend, on a port and data directory of its own."""
    try:
        binary = subprocess.run([str(ROOT / "scripts" / "infra.sh"), "binary"], check=True,
                                capture_output=True, text=True).stdout.strip().splitlines()[-1]
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"FerretDB cannot be built here: {exc.stderr[-300:]}")
    data = tmp_path_factory.mktemp("ferretdb-sqlite")
    port = free_port()
    log = open(data / "ferretdb.log", "ab")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen([binary, "--handler=sqlite", f"--sqlite-url=file:{data}/", f"--state-dir={data}",
                             f"--listen-addr=127.0.0.1:{port}", "--debug-addr=127.0.0.1:0", "--telemetry=disable",
                             "--log-level=warn"], stdout=log, stderr=subprocess.STDOUT)
    client: pymongo.MongoClient = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=2000)
    try:
        wait_for(lambda: client.admin.command("ping"), timeout=30, what="the SQLite FerretDB to answer")
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)
        log.close()


def explain(coll: Collection, flt: dict[str, Any]) -> dict[str, Any]:
    return coll.database.command("explain", {"find": coll.name, "filter": flt})


def fill(coll: Collection, n: int, fields: Iterable[str], constants: dict[str, Any] | None = None,
         arrays: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``n`` documents, each field a value of its own (every equality selects one document,
    every unique index holds), an array of two for ``arrays``; then fresh planner statistics."""
    arrays = set(arrays)
    docs = []
    for i in range(n):
        doc: dict[str, Any] = {"_id": f"k{i}", **(constants or {})}
        for f in fields:
            doc[f] = [f"{f}-{i}", f"{f}-all"] if f in arrays else f"{f}-{i}"
        docs.append(doc)
    for i in range(0, n, 5000):
        coll.insert_many(docs[i:i + 5000], ordered=False)
    analyze(coll)
    return docs


def analyze(coll: Collection) -> None:
    """FerretDB's ``compact`` is PostgreSQL's VACUUM ANALYZE (the planner's statistics);
    SQLite and MongoDB plan without them."""
    try:
        coll.database.command("compact", coll.name)
    except pymongo.errors.OperationFailure:
        pass
