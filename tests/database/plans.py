"""What an ``explain`` answer says about a query's plan, on each server we run on (pure).

FerretDB's ``explain`` carries its backend's own plan under ``queryPlanner``:
PostgreSQL's ``EXPLAIN (FORMAT JSON)`` tree (``{"Plan": {"Node Type": ..., "Plans": [...]}}``)
or SQLite's ``EXPLAIN QUERY PLAN`` lines (``{"Plan": ["... SEARCH t USING INDEX ..."]}``);
MongoDB answers with ``queryPlanner.winningPlan`` stages.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

POSTGRESQL, SQLITE, MONGODB = "postgresql", "sqlite", "mongodb"
#: MongoDB stages that read through an index (IDHACK / EXPRESS_*: `_id` fast paths)
MONGO_INDEX_STAGES = {"IXSCAN", "IDHACK", "EXPRESS_IXSCAN", "EXPRESS_CLUSTERED_IXSCAN", "COUNT_SCAN"}


def backend(explain: dict[str, Any]) -> str:
    planner = explain.get("queryPlanner") or {}
    if "winningPlan" in planner:
        return MONGODB
    plan = planner.get("Plan")
    if isinstance(plan, dict):
        return POSTGRESQL
    if isinstance(plan, list):
        return SQLITE
    raise ValueError(f"unknown explain answer: {json.dumps(explain, default=str)[:300]}")


def pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans") or []:
        yield from pg_nodes(child)


def mongo_stages(stage: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield stage
    for key in ("inputStage", "queryPlan"):
        if isinstance(stage.get(key), dict):
            yield from mongo_stages(stage[key])
    for child in stage.get("inputStages") or []:
        yield from mongo_stages(child)


def index_names(explain: dict[str, Any]) -> list[str]:
    """The indexes the plan reads (PostgreSQL / MongoDB names; SQLite: the USING INDEX names)."""
    kind = backend(explain)
    planner = explain["queryPlanner"]
    if kind == POSTGRESQL:
        return [n["Index Name"] for n in pg_nodes(planner["Plan"]) if "Index Name" in n]
    if kind == SQLITE:
        return [line.split("USING INDEX ", 1)[1].split(" ", 1)[0] for line in planner["Plan"]
                if "USING INDEX " in line]
    return [s.get("indexName", "_id_") for s in mongo_stages(planner["winningPlan"])
            if s.get("stage") in MONGO_INDEX_STAGES]


def full_scans(explain: dict[str, Any]) -> list[str]:
    """The parts of the plan that read a whole table or collection."""
    kind = backend(explain)
    planner = explain["queryPlanner"]
    if kind == POSTGRESQL:
        return [f"Seq Scan on {n.get('Relation Name')}" for n in pg_nodes(planner["Plan"])
                if n.get("Node Type") == "Seq Scan"]
    if kind == SQLITE:
        return [line for line in planner["Plan"] if "detail=SCAN " in line]
    return [s["stage"] for s in mongo_stages(planner["winningPlan"]) if s.get("stage") == "COLLSCAN"]


def index_reads(explain: dict[str, Any], field: str) -> bool:
    """Whether an index read of the plan evaluates a condition on ``field`` (PostgreSQL: in an
    ``Index Cond``; MongoDB: in an index scan's key pattern), i.e. the index narrows by it."""
    kind = backend(explain)
    planner = explain["queryPlanner"]
    if kind == POSTGRESQL:
        return any(f"'{field}'" in str(n.get("Index Cond", "")) for n in pg_nodes(planner["Plan"]))
    if kind == SQLITE:
        return any("USING INDEX " in line and f"{field}" in line for line in planner["Plan"])
    return any(field in (s.get("keyPattern") or {}) for s in mongo_stages(planner["winningPlan"])
               if s.get("stage") in MONGO_INDEX_STAGES)


def served_by_index(explain: dict[str, Any]) -> bool:
    return bool(index_names(explain)) and not full_scans(explain)


def describe(explain: dict[str, Any]) -> str:
    planner = explain.get("queryPlanner") or {}
    return json.dumps(planner.get("Plan") or planner.get("winningPlan"), default=str)[:800]
