"""Dashboards and alerts only query metrics (and labels) the code really exports."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml

from tests.ops.conftest import MONITORING
from tests.ops.metric_names import (
    EXPORTED,
    JOB_METRICS,
    JOBS,
    SERVICES,
    TARGET_LABELS,
    is_known_metric,
    labels_of,
    metric_names_in_expr,
    selectors_in_expr,
)

DASHBOARDS = MONITORING / "dashboards"


def dashboard_exprs() -> list[tuple[str, str, str]]:
    """(file, panel title, expr) for every query in every dashboard."""
    out = []
    for f in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(f.read_text())
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                out.append((f.name, panel["title"], t["expr"]))
    return out


def alert_exprs() -> list[tuple[str, str]]:
    doc = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    return [(r.get("alert") or r["record"], r["expr"]) for g in doc["groups"] for r in g["rules"]]


ALL_EXPRS = [(f"{f}:{title}", e) for f, title, e in dashboard_exprs()] + alert_exprs()


# -- the helper itself ------------------------------------------------------------------

@pytest.mark.parametrize("expr, names", [
    ('sum by (le, method) (rate(crm_rpc_duration_seconds_bucket{job="x"}[$__rate_interval]))',
     {"crm_rpc_duration_seconds_bucket"}),
    ('max by (job) (up{job=~"a|b"}) == 0 or absent(up{job="identity"})', {"up"}),
    ("sum(rate(foo[5m] offset 1h)) / on(job) group_left(bar) baz > bool 1e3", {"foo", "baz"}),
    ('{__name__="qux", a="b"} and sum without (instance) (x:y:z)', {"qux", "x:y:z"}),
    ("deriv(sum by(queue)(rabbitmq_queue_messages_ready)[10m:1m])", {"rabbitmq_queue_messages_ready"}),
    ('label_replace(up, "dst", "$1", "src", "(.*)")', {"up"}),
    ("histogram_quantile(0.99, sum(rate(a_bucket[5m])) by (le))", {"a_bucket"}),
    ('count_values("v", b) / ignoring(x) topk(3, c{d!~"e,f"})', {"b", "c"}),
    ("# comment only\n1 + 2", set()),
])
def test_metric_names_in_expr(expr: str, names: set[str]) -> None:
    assert metric_names_in_expr(expr) == names


def test_job_metric_pairs_cover_every_job() -> None:
    assert {j for j, _ in JOB_METRICS} == set(JOBS)
    assert ("visits", "crm_worker_busy") in JOB_METRICS
    assert ("gateway", "crm_upstream_timeouts_total") in JOB_METRICS


# -- dashboards and alerts ---------------------------------------------------------------

@pytest.mark.parametrize("where, expr", ALL_EXPRS, ids=[w for w, _ in ALL_EXPRS])
def test_only_exported_metrics_are_queried(where: str, expr: str) -> None:
    names = metric_names_in_expr(expr)
    assert names, f"{where}: no metric found in {expr!r}"
    unknown = {n for n in names if not is_known_metric(n)}
    assert not unknown, f"{where}: {unknown} are not exported by any job"


@pytest.mark.parametrize("where, expr", ALL_EXPRS, ids=[w for w, _ in ALL_EXPRS])
def test_only_existing_labels_are_used(where: str, expr: str) -> None:
    sels = selectors_in_expr(expr)
    ours = [(n, ls) for n, ls in sels if n and labels_of(n) is not None]
    for name, used in ours:
        assert used <= labels_of(name), f"{where}: {name} has no label {used - labels_of(name)}"
    if ours:  # by()/on() clauses must name labels one of the selected metrics has
        allowed = set().union(*(labels_of(n) for n, _ in ours)) | {"le", "queue", "vhost"}
        for name, used in sels:
            if not name:
                assert used <= allowed, f"{where}: grouping by unknown label {used - allowed}"


@pytest.mark.parametrize("where, expr", ALL_EXPRS, ids=[w for w, _ in ALL_EXPRS])
def test_job_selector_matches_the_exporting_job(where: str, expr: str) -> None:
    """A query for job="gateway" must not ask for crm_rpc_* (which only services export)."""
    import re

    for m in re.finditer(r'([a-z_:][a-z0-9_:]*)\{[^}]*job="([a-z]+)"', expr):
        metric, job = m.groups()
        if labels_of(metric) is not None:
            assert job in EXPORTED and metric in EXPORTED[job], f"{where}: job {job} does not export {metric}"


def test_every_service_has_a_dashboard_with_the_required_panels() -> None:
    for job in JOBS:
        board = json.loads((DASHBOARDS / f"{job}.json").read_text())
        exprs = " ".join(t["expr"] for p in board["panels"] for t in p.get("targets", []))
        assert f'job="{job}"' in exprs
        assert "histogram_quantile(0.99" in exprs and "histogram_quantile(0.5" in exprs
        assert "rabbitmq_queue_messages_ready" in exprs
        if job in SERVICES:
            for needle in ("crm_rpc_requests_total", 'outcome="error"', "crm_worker_busy",
                           "crm_worker_capacity", "crm_outbox_backlog", "crm_dead_letters",
                           f'queue="rpc-{job}"'):
                assert needle in exprs, f"{job}: {needle}"
        else:
            assert 'status=~"5.."' in exprs and "crm_upstream_timeouts_total" in exprs
        assert board["uid"] == f"fieldcrm-{job}"


def test_dashboards_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("gen", MONITORING / "generate_dashboards.py")
    gen = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(gen)
    rendered = gen.render()
    assert sorted(rendered) == sorted(p.name for p in DASHBOARDS.glob("*.json"))
    for fname, text in rendered.items():
        assert (DASHBOARDS / fname).read_text() == text, \
            f"{fname} is stale: run python deploy/k8s/base/monitoring/generate_dashboards.py"


def test_scrape_config_sets_job_from_app_name() -> None:
    cfg = yaml.safe_load((MONITORING / "prometheus-scrape.yaml").read_text())
    relabels = cfg["scrape_configs"][0]["relabel_configs"]
    assert {"source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
            "target_label": "job"} in relabels
    assert {"job", "instance"} <= TARGET_LABELS
