"""Alert rules: promtool checks them, their unit tests pass, and the tests bite."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.ops.conftest import MONITORING

ALERTS = MONITORING / "alerts.yaml"
ALERTS_TEST = MONITORING / "alerts_test.yaml"
REQUIRED = {"ServiceDown", "HighErrorRatio", "HighP99Latency", "QueueBacklogGrowing",
            "OutboxBacklog", "DeadLetters", "RpcReplyFailures", "HeartbeatStale"}


def _run(promtool: Path, *args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def _rules() -> list[dict]:
    return [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]


def test_promtool_check_rules(promtool: Path) -> None:
    proc = _run(promtool, "check", "rules", str(ALERTS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_test_rules(promtool: Path) -> None:
    proc = _run(promtool, "test", "rules", str(ALERTS_TEST))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_required_alerts_exist_with_severity() -> None:
    rules = _rules()
    assert {r["alert"] for r in rules} >= REQUIRED
    for r in rules:
        assert r["labels"]["severity"] in ("warning", "critical"), r["alert"]
        assert r["annotations"].get("summary"), r["alert"]


def test_service_down_shape() -> None:
    (rule,) = [r for r in _rules() if r["alert"] == "ServiceDown"]
    assert rule["for"] == "2m"
    expr = rule["expr"]
    assert 'up{job=~"identity|customers|pool|visits|notify|gateway"}' in expr
    for job in ("identity", "customers", "pool", "visits", "notify", "gateway"):
        assert f'absent(up{{job="{job}"}})' in expr


def test_alert_tests_would_catch_an_early_service_down(promtool: Path, tmp_path: Path) -> None:
    """Mutation check: expecting ServiceDown *inside* its for: window must fail."""
    doc = yaml.safe_load(ALERTS_TEST.read_text())
    first = doc["tests"][0]
    early = next(t for t in first["alert_rule_test"] if t["alertname"] == "ServiceDown" and t["eval_time"] == "3m")
    annotations = {"summary": "identity is down",
                   "description": "No identity target has answered a scrape for 2 minutes."}
    early["exp_alerts"] = [{"exp_labels": {"job": "identity", "severity": "critical"},
                            "exp_annotations": annotations}]
    doc["tests"] = [first]
    doc["rule_files"] = [str(ALERTS)]
    mutated = tmp_path / "mutated_test.yaml"
    mutated.write_text(yaml.safe_dump(doc))
    proc = _run(promtool, "test", "rules", str(mutated), cwd=tmp_path)
    assert proc.returncode != 0, "ServiceDown fired before its for: window, yet the test passed"


def test_dashboard_queries_parse(promtool: Path, tmp_path: Path) -> None:
    """promtool has no bare-expression check: load every panel query as a recording rule."""
    from tests.ops.test_metric_usage import dashboard_exprs

    rules = [{"record": f"dashboard:query_{i}:check", "expr": expr.replace("$__rate_interval", "5m")}
             for i, (_, _, expr) in enumerate(dashboard_exprs())]
    f = tmp_path / "dashboards_as_rules.yaml"
    f.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    proc = _run(promtool, "check", "rules", str(f), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
