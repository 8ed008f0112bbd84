"""Render the Grafana dashboards in ./dashboards/ (one per service + gateway).

    python deploy/k8s/base/monitoring/generate_dashboards.py

The JSON files are committed; tests/ops checks that they match this script's
output and that every metric they query is one the code exports.
"""

from __future__ import annotations

import json
from pathlib import Path

SERVICES = ("identity", "customers", "pool", "visits", "notify")
OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}


def _target(expr: str, legend: str, ref: str) -> dict:
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}


def _panel(pid: int, title: str, targets: list[tuple[str, str]], unit: str,
           x: int, y: int, w: int = 12, h: int = 8, description: str = "") -> dict:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                    "tooltip": {"mode": "multi"}},
        "targets": [_target(e, lg, chr(ord("A") + i)) for i, (e, lg) in enumerate(targets)],
    }


def _stat(pid: int, title: str, expr: str, x: int, y: int, unit: str = "none") -> dict:
    return {
        "id": pid,
        "type": "stat",
        "title": title,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": 6, "h": 4},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"]}},
        "targets": [_target(expr, "", "A")],
    }


def _hq(q: float, by: str, metric: str, sel: str) -> str:
    """histogram_quantile over a rate of a _bucket series, grouped by `by`."""
    return f"histogram_quantile({q}, sum by ({by}) (rate({metric}{{{sel}}}[$__rate_interval])))"


def _dashboard(uid: str, title: str, panels: list[dict], tags: list[str]) -> dict:
    return {
        "uid": uid,
        "title": title,
        "tags": ["fieldcrm", *tags],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": [{
            "name": "datasource", "label": "Prometheus", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0,
        }]},
        "annotations": {"list": []},
        "panels": panels,
    }


def service_dashboard(name: str) -> dict:
    sel = f'job="{name}"'
    rate = "$__rate_interval"
    p = [
        _stat(1, "Instances up", f"sum(up{{{sel}}})", 0, 0),
        _stat(2, "RPC rate", f"sum(rate(crm_rpc_requests_total{{{sel}}}[{rate}]))", 6, 0, "reqps"),
        _stat(3, "Error ratio",
              f'sum(rate(crm_rpc_requests_total{{{sel},outcome="error"}}[{rate}]))'
              f" / sum(rate(crm_rpc_requests_total{{{sel}}}[{rate}]))", 12, 0, "percentunit"),
        _stat(4, f"Queue depth (rpc-{name})",
              f'sum(rabbitmq_queue_messages_ready{{queue="rpc-{name}"}})', 18, 0),
        _panel(5, "RPC rate by method",
               [(f"sum by (method) (rate(crm_rpc_requests_total{{{sel}}}[{rate}]))", "{{method}}")],
               "reqps", 0, 4),
        _panel(6, "Error ratio by method",
               [(f'sum by (method) (rate(crm_rpc_requests_total{{{sel},outcome="error"}}[{rate}]))'
                 f" / sum by (method) (rate(crm_rpc_requests_total{{{sel}}}[{rate}]))", "{{method}}")],
               "percentunit", 12, 4),
        _panel(7, "RPC latency p50 / p99",
               [(_hq(0.5, "le", "crm_rpc_duration_seconds_bucket", sel), "p50"),
                (_hq(0.99, "le", "crm_rpc_duration_seconds_bucket", sel), "p99")],
               "s", 0, 12),
        _panel(8, "RPC latency p99 by method",
               [(_hq(0.99, "le, method", "crm_rpc_duration_seconds_bucket", sel), "{{method}}")],
               "s", 12, 12),
        _panel(9, "Queue depth",
               [(f'sum by (queue) (rabbitmq_queue_messages_ready{{queue="rpc-{name}"}})', "{{queue}} ready")],
               "none", 0, 20,
               description="Messages waiting in the service's RPC queue (rabbitmq_prometheus per-object metrics)."),
        _panel(10, "Worker saturation",
               [(f"sum(crm_worker_busy{{{sel}}}) / sum(crm_worker_capacity{{{sel}}})", "busy / capacity")],
               "percentunit", 12, 20, description="Busy nameko workers over max_workers, all replicas."),
        _panel(11, "Events handled",
               [(f"sum by (event_type, outcome) (rate(crm_events_handled_total{{{sel}}}[{rate}]))",
                 "{{event_type}} {{outcome}}")],
               "ops", 0, 28),
        _panel(12, "Outbox backlog",
               [(f"max(crm_outbox_backlog{{{sel}}})", "unpublished events")],
               "none", 12, 28),
        _panel(13, "Dead letters",
               [(f"max(crm_dead_letters{{{sel}}})", "dead letters")],
               "none", 0, 36),
        _panel(14, "Average RPC latency by method",
               [(f"sum by (method) (rate(crm_rpc_duration_seconds_sum{{{sel}}}[{rate}]))"
                 f" / sum by (method) (rate(crm_rpc_duration_seconds_count{{{sel}}}[{rate}]))", "{{method}}")],
               "s", 12, 36),
    ]
    return _dashboard(f"fieldcrm-{name}", f"FieldCRM / {name}", p, [name])


def gateway_dashboard() -> dict:
    sel = 'job="gateway"'
    rate = "$__rate_interval"
    p = [
        _stat(1, "Instances up", f"sum(up{{{sel}}})", 0, 0),
        _stat(2, "Request rate", f"sum(rate(crm_http_requests_total{{{sel}}}[{rate}]))", 6, 0, "reqps"),
        _stat(3, "5xx ratio",
              f'sum(rate(crm_http_requests_total{{{sel},status=~"5.."}}[{rate}]))'
              f" / sum(rate(crm_http_requests_total{{{sel}}}[{rate}]))", 12, 0, "percentunit"),
        _stat(4, "p99 latency",
              _hq(0.99, "le", "crm_http_request_duration_seconds_bucket", sel),
              18, 0, "s"),
        _panel(5, "Request rate by route",
               [(f"sum by (route, method) (rate(crm_http_requests_total{{{sel}}}[{rate}]))",
                 "{{method}} {{route}}")],
               "reqps", 0, 4),
        _panel(6, "Responses by status",
               [(f"sum by (status) (rate(crm_http_requests_total{{{sel}}}[{rate}]))", "{{status}}")],
               "reqps", 12, 4),
        _panel(7, "Error ratio by route (5xx)",
               [(f'sum by (route) (rate(crm_http_requests_total{{{sel},status=~"5.."}}[{rate}]))'
                 f" / sum by (route) (rate(crm_http_requests_total{{{sel}}}[{rate}]))", "{{route}}")],
               "percentunit", 0, 12),
        _panel(8, "Latency p50 / p99",
               [(_hq(0.5, "le", "crm_http_request_duration_seconds_bucket", sel), "p50"),
                (_hq(0.99, "le", "crm_http_request_duration_seconds_bucket", sel), "p99")],
               "s", 12, 12),
        _panel(9, "p99 latency by route",
               [(_hq(0.99, "le, route", "crm_http_request_duration_seconds_bucket", sel), "{{route}}")],
               "s", 0, 20),
        _panel(10, "Upstream timeouts / unavailable by service",
               [(f"sum by (service) (rate(crm_upstream_timeouts_total{{{sel}}}[{rate}]))",
                 "timeout {{service}}"),
                (f"sum by (service) (rate(crm_upstream_unavailable_total{{{sel}}}[{rate}]))",
                 "unavailable {{service}}")],
               "ops", 12, 20),
        _panel(11, "RPC queue depth (all services)",
               [('sum by (queue) (rabbitmq_queue_messages_ready{queue=~"rpc-.+"})', "{{queue}}")],
               "none", 0, 28),
        _panel(12, "Worker saturation (all services)",
               [("sum by (job) (crm_worker_busy) / sum by (job) (crm_worker_capacity)", "{{job}}")],
               "percentunit", 12, 28),
    ]
    return _dashboard("fieldcrm-gateway", "FieldCRM / gateway", p, ["gateway"])


def render() -> dict[str, str]:
    boards = {f"{n}.json": service_dashboard(n) for n in SERVICES}
    boards["gateway.json"] = gateway_dashboard()
    return {f: json.dumps(b, indent=2, sort_keys=True) + "\n" for f, b in boards.items()}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for fname, text in render().items():
        (OUT / fname).write_text(text)


if __name__ == "__main__":
    main()
