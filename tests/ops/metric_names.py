"""Metric names used by dashboards and alerts, and the names the code exports.

`metric_names_in_expr(expr)` pulls the metric names out of a PromQL expression
(Grafana variables such as $__rate_interval are tolerated). `EXPORTED` is the
contract of what each scrape job exports; `JOB_METRICS` lists it as
(job, metric) pairs so a live test can scrape each process's /metrics and check
that every name is really there (note: prometheus_client prints a labelled
metric only after its first observation, so make one call first).
"""

from __future__ import annotations

import re

SERVICES = ("identity", "customers", "pool", "visits", "notify")
GATEWAY = "gateway"
JOBS = (*SERVICES, GATEWAY)

# metric -> label names (besides job/instance added by Prometheus)
SERVICE_METRICS: dict[str, frozenset[str]] = {
    "crm_rpc_requests_total": frozenset({"service", "method", "outcome"}),
    "crm_rpc_duration_seconds_bucket": frozenset({"service", "method", "le"}),
    "crm_rpc_duration_seconds_sum": frozenset({"service", "method"}),
    "crm_rpc_duration_seconds_count": frozenset({"service", "method"}),
    "crm_events_handled_total": frozenset({"service", "event_type", "outcome"}),
    "crm_outbox_backlog": frozenset({"service"}),
    "crm_dead_letters": frozenset({"service"}),
    "crm_worker_busy": frozenset({"service"}),
    "crm_worker_capacity": frozenset({"service"}),
    "crm_up": frozenset({"service"}),
    "crm_heartbeat_timestamp_seconds": frozenset({"service"}),
    "crm_rpc_reply_failures_total": frozenset({"service", "reason"}),
}
GATEWAY_METRICS: dict[str, frozenset[str]] = {
    "crm_http_requests_total": frozenset({"route", "method", "status"}),
    "crm_http_request_duration_seconds_bucket": frozenset({"route", "method", "le"}),
    "crm_http_request_duration_seconds_sum": frozenset({"route", "method"}),
    "crm_http_request_duration_seconds_count": frozenset({"route", "method"}),
    "crm_upstream_timeouts_total": frozenset({"service"}),
    "crm_upstream_unavailable_total": frozenset({"service"}),
}

EXPORTED: dict[str, dict[str, frozenset[str]]] = {
    **{s: SERVICE_METRICS for s in SERVICES},
    GATEWAY: GATEWAY_METRICS,
}

#: (job, metric) pairs every process must expose on /metrics.
JOB_METRICS: list[tuple[str, str]] = [(job, m) for job, ms in EXPORTED.items() for m in ms]

#: metrics allowed in queries that do not come from our code.
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod"})
EXPORTER_METRICS = frozenset({"up"})
EXPORTER_PREFIXES = ("rabbitmq_",)


def is_known_metric(name: str) -> bool:
    if name in EXPORTER_METRICS or name.startswith(EXPORTER_PREFIXES):
        return True
    return any(name in ms for ms in EXPORTED.values())


def labels_of(name: str) -> frozenset[str] | None:
    """Label names a metric of ours may carry (with target labels); None if not ours."""
    for ms in EXPORTED.values():
        if name in ms:
            return ms[name] | TARGET_LABELS
    return None


# ---------------------------------------------------------------------------
# PromQL scanning

_KEYWORDS = frozenset({
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "inf", "nan", "atan2", "start", "end",
    # aggregation operators (may be followed by `by (...)` before their argument)
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
})
# keywords followed by a parenthesised list of label names, not an expression
_LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<var>\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]*\]\])
  | (?P<number>(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)(?:[smhdwy]|ms)?(?:\d+(?:[smhdwy]|ms))*)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:.]*)
  | (?P<op>[(){}\[\],]|=~|!~|!=|==|<=|>=|[-+*/%^<>=@])
    """,
    re.VERBOSE,
)


def _tokens(expr: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot scan PromQL at {pos}: {expr[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind in ("ws", "comment"):
            continue
        out.append((kind, m.group()))
    return out


def selectors_in_expr(expr: str) -> list[tuple[str, frozenset[str]]]:
    """(metric name, label names used in its matchers) for every vector selector.

    Also records label names used in by/without/on/ignoring clauses under the
    pseudo-metric "" so callers can check them.
    """
    toks = _tokens(expr)
    found: list[tuple[str, frozenset[str]]] = []
    i = 0
    n = len(toks)

    def matcher_block(start: int) -> tuple[dict[str, str], int]:
        """Parse {a="x", b=~"y"} starting at '{'; return label->value and next index."""
        labels: dict[str, str] = {}
        j = start + 1
        while j < n and toks[j][1] != "}":
            if toks[j][0] == "ident" and j + 2 < n and toks[j + 1][1] in ("=", "!=", "=~", "!~"):
                labels[toks[j][1]] = toks[j + 2][1].strip("\"'`")
                j += 3
            else:
                j += 1
        return labels, j + 1

    while i < n:
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < n else ""
        if kind == "ident":
            low = text.lower()
            if low in _LABEL_LIST_KEYWORDS and nxt == "(":
                j = i + 2
                names = []
                while j < n and toks[j][1] != ")":
                    if toks[j][0] == "ident":
                        names.append(toks[j][1])
                    j += 1
                found.append(("", frozenset(names)))
                i = j + 1
                continue
            if nxt == "(" or low in _KEYWORDS:
                i += 1  # function, aggregation or keyword
                continue
            labels: dict[str, str] = {}
            j = i + 1
            if nxt == "{":
                labels, j = matcher_block(i + 1)
            found.append((text, frozenset(labels)))
            i = j
            continue
        if text == "{":  # selector without a name: {__name__="x", ...}
            labels, j = matcher_block(i)
            if "__name__" in labels:
                found.append((labels["__name__"], frozenset(labels) - {"__name__"}))
            i = j
            continue
        if text == "[":  # range or subquery duration
            while i < n and toks[i][1] != "]":
                i += 1
            i += 1
            continue
        i += 1
    return found


def metric_names_in_expr(expr: str) -> set[str]:
    """Every metric name a PromQL expression selects."""
    return {name for name, _ in selectors_in_expr(expr) if name}
