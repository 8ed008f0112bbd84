"""Every metric name used in a dashboard or alert is exported by the running process
it belongs to: scrape the real /metrics of the stack under test."""
from __future__ import annotations

import httpx

from crmkit.topology import SUBSCRIPTIONS
from tests.ops.metric_names import JOB_METRICS, SERVICES, metric_names_in_expr
from tests.ops.test_metric_usage import alert_exprs, dashboard_exprs
from tests.support.waiting import wait_for


def all_exprs_by_job() -> dict[str, list[str]]:
    """Dashboard queries belong to the job their file is named after; an alert's metric
    must be exported by some job (services export the crm_rpc_* family, the gateway
    crm_http_*), so alerts are checked against the union."""
    used: dict[str, list[str]] = {}
    for fname, _title, expr in dashboard_exprs():
        used.setdefault(fname.removesuffix(".json"), []).append(expr)
    used["*"] = [expr for _name, expr in alert_exprs()]
    return used


def _scrape(url: str) -> set[str]:
    text = httpx.get(url, timeout=10).text
    return {line.split("{", 1)[0].split(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def test_every_dashboard_and_alert_metric_is_really_exported(stack, http):
    # make one call of each kind so labelled series exist
    for s in SERVICES:  # (a busy machine may need a second try; the names are what is tested here)
        wait_for(lambda s=s: http.get(f"/healthz/{s}").status_code == 200, timeout=30, what=f"{s} answers")
    exported = {"gateway": _scrape(f"{stack.url}/metrics")}
    for s in SERVICES:
        exported[s] = _scrape(f"http://127.0.0.1:{stack.procs[s].metrics_port}/metrics")
    subscribers = {sub.service for sub in SUBSCRIPTIONS}
    used = all_exprs_by_job()
    missing = []
    for job, exprs in used.items():
        for expr in exprs:
            for name in metric_names_in_expr(expr):
                if name == "up" or name.startswith("rabbitmq_"):
                    continue
                if name.startswith("crm_events_handled") and job in SERVICES and job not in subscribers:
                    continue  # a service that subscribes to nothing handles no events
                cross = job in ("*", "gateway")  # alerts and the gateway board also show services
                have = set().union(*exported.values()) if cross else exported.get(job, set())
                if name not in have:
                    missing.append((job, name))
    assert not missing, f"used in dashboards/alerts but not exported: {sorted(set(missing))}"
    # and the contract list itself is real
    for job, name in JOB_METRICS:
        if name.startswith("crm_events_handled") and job not in subscribers:
            continue
        assert name in exported[job], (job, name)
