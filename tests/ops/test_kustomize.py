"""Every kustomize tree builds, validates offline, and follows the house rules."""

from __future__ import annotations

import json
import re

import jsonschema
import kubernetes_validate
import pytest

from tests.ops.conftest import TREES, by_kind, render
from tests.ops.metric_names import SERVICES

K8S_VERSION = "1.30.0"  # oldest Kubernetes we deploy to; also checked against the newest
APPS = (*SERVICES, "gateway")
CRD_KINDS = {("keda.sh/v1alpha1", "ScaledObject"), ("keda.sh/v1alpha1", "TriggerAuthentication")}

# Small schemas for the KEDA CRDs (not in kubernetes-validate's bundle): the
# fields KEDA requires plus the ones this project relies on.
_META = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}
SCALED_OBJECT_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "metadata": _META,
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object", "required": ["name"], "additionalProperties": False,
                    "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                   "name": {"type": "string"}, "envSourceContainerName": {"type": "string"}},
                },
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "idleReplicaCount": {"type": "integer", "minimum": 0},
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "initialCooldownPeriod": {"type": "integer", "minimum": 0},
                "fallback": {"type": "object"},
                "advanced": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": {
                            "type": "object", "additionalProperties": False,
                            "properties": {"name": {"type": "string"}, "behavior": {"type": "object"}},
                        },
                        "scalingModifiers": {"type": "object"},
                    },
                },
                "triggers": {
                    "type": "array", "minItems": 1,
                    "items": {
                        "type": "object", "required": ["type", "metadata"], "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            "useCachedMetrics": {"type": "boolean"},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                            "authenticationRef": {
                                "type": "object", "required": ["name"], "additionalProperties": False,
                                "properties": {"name": {"type": "string"},
                                               "kind": {"enum": ["TriggerAuthentication",
                                                                 "ClusterTriggerAuthentication"]}},
                            },
                        },
                    },
                },
            },
        },
    },
}
TRIGGER_AUTH_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "metadata": _META,
        "spec": {
            "type": "object",
            "minProperties": 1,
            "properties": {
                "secretTargetRef": {
                    "type": "array", "minItems": 1,
                    "items": {"type": "object", "required": ["parameter", "name", "key"],
                              "additionalProperties": False,
                              "properties": {"parameter": {"type": "string"}, "name": {"type": "string"},
                                             "key": {"type": "string"}}},
                },
                "env": {"type": "array"},
                "podIdentity": {"type": "object"},
                "hashiCorpVault": {"type": "object"},
            },
        },
    },
}
CRD_SCHEMAS = {"ScaledObject": SCALED_OBJECT_SCHEMA, "TriggerAuthentication": TRIGGER_AUTH_SCHEMA}


def _workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def _pod_spec(d: dict) -> dict:
    return d["spec"]["template"]["spec"]


@pytest.fixture(params=list(TREES), scope="module")
def tree(request: pytest.FixtureRequest) -> str:
    return request.param


def test_builds(tree: str) -> None:
    docs = render(tree)
    assert docs, f"{tree} rendered nothing"
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names)), "duplicate objects"


@pytest.mark.parametrize("k8s_version", [K8S_VERSION, kubernetes_validate.latest_version()])
def test_objects_validate_against_kubernetes_schemas(tree: str, k8s_version: str) -> None:
    errors = []
    for d in render(tree):
        if (d["apiVersion"], d["kind"]) in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(d, k8s_version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{d['kind']}/{d['metadata']['name']}: {e.message} at {list(e.path)}")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"{d['kind']}/{d['metadata']['name']}: no schema for {d['apiVersion']} "
                          f"(removed or misspelt apiVersion?)")
    assert not errors, "\n".join(errors)


def test_crds_validate_against_local_schemas(tree: str) -> None:
    for d in render(tree):
        if (d["apiVersion"], d["kind"]) in CRD_KINDS:
            jsonschema.validate(d, CRD_SCHEMAS[d["kind"]])
        else:
            assert d["apiVersion"] != "keda.sh/v1alpha1", f"unexpected KEDA kind {d['kind']}"


def test_every_app_has_deployment_service_pdb_configmap(tree: str) -> None:
    docs = render(tree)
    deps, svcs, pdbs, cms = (by_kind(docs, k) for k in
                             ("Deployment", "Service", "PodDisruptionBudget", "ConfigMap"))
    for app in APPS:
        assert app in deps and app in svcs and app in pdbs and f"{app}-config" in cms, app
        sel = pdbs[app]["spec"]["selector"]["matchLabels"]
        assert sel.items() <= deps[app]["spec"]["template"]["metadata"]["labels"].items()
        assert svcs[app]["spec"]["selector"].items() <= deps[app]["spec"]["template"]["metadata"]["labels"].items()


def test_each_deployment_scaled_by_exactly_one_autoscaler(tree: str) -> None:
    docs = render(tree)
    hpa_targets = [d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    keda_targets = [d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "ScaledObject"]
    targets = hpa_targets + keda_targets
    assert sorted(targets) == sorted(APPS), f"HPA {hpa_targets} / KEDA {keda_targets}"
    for d in docs:
        if d["kind"] == "HorizontalPodAutoscaler":
            metrics = d["spec"]["metrics"]
            assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics)


def test_prod_scales_services_on_their_rpc_queue() -> None:
    docs = render("prod")
    sos = by_kind(docs, "ScaledObject")
    auths = by_kind(docs, "TriggerAuthentication")
    assert sorted(sos) == sorted(SERVICES)
    assert "gateway" in by_kind(docs, "HorizontalPodAutoscaler")
    for name, so in sos.items():
        assert so["spec"]["scaleTargetRef"]["name"] == name
        rabbit = [t for t in so["spec"]["triggers"] if t["type"] == "rabbitmq"]
        assert len(rabbit) == 1
        assert rabbit[0]["metadata"]["queueName"] == f"rpc-{name}"
        assert "@" not in rabbit[0]["metadata"].get("host", ""), "credentials belong in the TriggerAuthentication"
        assert rabbit[0]["authenticationRef"]["name"] in auths
        assert any(t["type"] == "cpu" for t in so["spec"]["triggers"])
    for auth in auths.values():  # the broker's own user, from the Secret RabbitMQ is created with
        refs = {r["parameter"]: (r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
        assert refs == {"username": ("rabbitmq-secrets", "username"), "password": ("rabbitmq-secrets", "password")}


def test_containers_are_locked_down_and_bounded(tree: str) -> None:
    for d in _workloads(render(tree)):
        pod = _pod_spec(d)
        pod_sc = pod.get("securityContext", {})
        assert pod_sc.get("runAsNonRoot") is True, d["metadata"]["name"]
        for c in pod.get("initContainers", []) + pod["containers"]:
            where = f"{d['kind']}/{d['metadata']['name']}/{c['name']}"
            sc = c.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("privileged", False), where
            res = c.get("resources", {})
            for k in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(res.get(k, {})), f"{where}: {k}"
            if d["kind"] == "Deployment":
                assert sc.get("readOnlyRootFilesystem") is True, where
                assert sc.get("runAsNonRoot") is True, where
                assert "livenessProbe" in c and "readinessProbe" in c, where


def test_probes_match_the_contract(tree: str) -> None:
    deps = by_kind(render(tree), "Deployment")
    for name in SERVICES:
        c = _pod_spec(deps[name])["containers"][0]
        assert c["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert c["livenessProbe"]["httpGet"]["port"] in (9100, "metrics")
        assert c["readinessProbe"]["exec"]["command"] == ["python", "-m", "crmkit.probe", name]
        assert any(p["containerPort"] == 9100 for p in c["ports"])
        assert c["command"] == [
            "nameko", "run", "--config", "/app/config.yaml", f"{name}.service:{name.capitalize()}Service"]
    g = _pod_spec(deps["gateway"])["containers"][0]
    assert g["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # the gateway's own dependencies only: never ?verbose, which asks every service — one sick
    # service must not take every gateway replica out of rotation
    assert g["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert g["readinessProbe"]["timeoutSeconds"] > 2  # READY_TIMEOUT bounds the database ping


SECRET_WORDS = re.compile(r"(PASSWORD|PASS|SECRET|TOKEN|_KEY$|^KEY$|COOKIE|CREDENTIAL|_URI$)", re.I)


def test_secrets_only_come_from_secret_refs(tree: str) -> None:
    docs = render(tree)
    assert not [d for d in docs if d["kind"] == "Secret"], "no Secret objects in git; create them out of band"
    for cm in by_kind(docs, "ConfigMap").values():
        for key, value in (cm.get("data") or {}).items():
            assert not SECRET_WORDS.search(key), f"ConfigMap {cm['metadata']['name']} holds {key}"
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", str(value)), \
                f"ConfigMap {cm['metadata']['name']}/{key} embeds credentials"
    for d in _workloads(docs):
        for c in _pod_spec(d).get("initContainers", []) + _pod_spec(d)["containers"]:
            from_secrets: set[str] = set()
            for e in c.get("env", []):
                if "secretKeyRef" in e.get("valueFrom", {}):
                    from_secrets.add(e["name"])
                if SECRET_WORDS.search(e["name"]) or e["name"].endswith(("_USER", "_USERNAME")):
                    where = f"{d['metadata']['name']}: {e['name']}"
                    if "value" in e:  # only a composition of values that themselves come from Secrets
                        used = set(re.findall(r"\$\(([A-Z0-9_]+)\)", e["value"]))
                        literal = re.sub(r"\$\([A-Z0-9_]+\)", "", e["value"])
                        assert used and used <= from_secrets, f"{where} set inline"
                        assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", literal), f"{where} embeds credentials"
                        continue
                    ref = e.get("valueFrom", {})
                    assert "secretKeyRef" in ref, f"{where} not from a Secret"


def test_only_identity_gets_the_jwt_secret(tree: str) -> None:
    for name, d in by_kind(render(tree), "Deployment").items():
        env = {e["name"] for e in _pod_spec(d)["containers"][0].get("env", [])}
        assert ("JWT_SECRET" in env) == (name == "identity"), name
        if name in SERVICES:
            assert {"AMQP_URI", "MONGO_URI", "CRM_CONTEXT_KEY"} <= env


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def test_every_deployment_uses_the_brokers_own_user(tree: str) -> None:
    docs = render(tree)
    rabbit = _env(_pod_spec(by_kind(docs, "StatefulSet")["rabbitmq"])["containers"][0])
    user = rabbit["RABBITMQ_DEFAULT_USER"]["valueFrom"]["secretKeyRef"]
    password = rabbit["RABBITMQ_DEFAULT_PASS"]["valueFrom"]["secretKeyRef"]
    for name, d in by_kind(docs, "Deployment").items():
        env = _env(_pod_spec(d)["containers"][0])
        assert env["AMQP_URI"]["value"] == "amqp://$(AMQP_USERNAME):$(AMQP_PASSWORD)@rabbitmq:5672/", name
        assert env["AMQP_USERNAME"]["valueFrom"]["secretKeyRef"] == user, name
        assert env["AMQP_PASSWORD"]["valueFrom"]["secretKeyRef"] == password, name
        names = list(env)
        assert names.index("AMQP_USERNAME") < names.index("AMQP_URI") > names.index("AMQP_PASSWORD"), \
            f"{name}: $(VAR) expands only variables defined before it"
    conf = by_kind(docs, "ConfigMap")["rabbitmq-config"]["data"]["rabbitmq.conf"]
    assert "loopback_users.guest = false" not in conf, "guest must never log in from outside the pod"
    text = json.dumps(docs)
    assert "guest:" not in text, "nothing of the project uses RabbitMQ's guest account"


def test_each_process_gets_every_secret_it_needs(tree: str) -> None:
    needs = {name: {"CRM_CONTEXT_KEY", "MONGO_URI", "AMQP_URI"} for name in SERVICES}
    needs["identity"] |= {"JWT_SECRET", "OPERATOR_SECRET"}
    needs["gateway"] = {"CRM_CONTEXT_KEY", "OPERATOR_SECRET", "AMQP_URI"}
    for name, d in by_kind(render(tree), "Deployment").items():
        env = _env(_pod_spec(d)["containers"][0])
        assert needs[name] <= set(env), f"{name} lacks {needs[name] - set(env)}"
        for secret in needs[name] - {"AMQP_URI"}:
            assert "secretKeyRef" in env[secret].get("valueFrom", {}), f"{name}: {secret}"
    deps = by_kind(render(tree), "Deployment")
    ops = {n: _env(_pod_spec(deps[n])["containers"][0])["OPERATOR_SECRET"]["valueFrom"]["secretKeyRef"]
           for n in ("identity", "gateway")}
    assert ops["identity"] == ops["gateway"], "gateway and identity must check the same operator secret"


def test_eventlet_greendns_off_for_services(tree: str) -> None:
    cms = by_kind(render(tree), "ConfigMap")
    for name in SERVICES:
        assert cms[f"{name}-config"]["data"]["EVENTLET_NO_GREENDNS"] == "yes"
        assert cms[f"{name}-config"]["data"]["METRICS_PORT"] == "9100"


def test_visits_photo_ceilings_are_set_and_valid(tree: str) -> None:
    from visits.rules import photo_bounds

    data = by_kind(render(tree), "ConfigMap")["visits-config"]["data"]
    bounds = photo_bounds(data)  # what the service reads at start; a bad value fails here too
    assert {"VISITS_PHOTO_MAX_BYTES", "VISITS_PHOTO_MAX_PIXELS", "VISITS_PHOTO_MIN_PIXELS_FLOOR"} <= set(data)
    assert bounds.max_bytes == int(data["VISITS_PHOTO_MAX_BYTES"])


def test_the_photo_size_limit_is_one_number_for_gateway_and_visits(tree: str) -> None:
    from crmkit.parts import photo_max_bytes

    cms = by_kind(render(tree), "ConfigMap")
    gateway, visits = cms["gateway-config"]["data"], cms["visits-config"]["data"]
    assert photo_max_bytes(gateway) == photo_max_bytes(visits) == int(visits["VISITS_PHOTO_MAX_BYTES"])
    # the gateway's generic upload limit leaves room for the photo and the form around it
    assert int(gateway["UPLOAD_MAX_BYTES"]) >= photo_max_bytes(gateway) + 256 * 1024


def test_images_are_pinned(tree: str) -> None:
    for d in _workloads(render(tree)):
        for c in _pod_spec(d).get("initContainers", []) + _pod_spec(d)["containers"]:
            image = c["image"]
            ref = image.rsplit("/", 1)[-1]
            assert ":" in ref or "@sha256:" in image, f"{image} has no tag"
            assert not ref.endswith(":latest"), image
    if tree != "base":
        for d in by_kind(render(tree), "Deployment").values():
            image = _pod_spec(d)["containers"][0]["image"]
            assert image.startswith(f"fieldcrm/{d['metadata']['name']}:"), image


def test_infra_is_clustered(tree: str) -> None:
    sts = by_kind(render(tree), "StatefulSet")
    assert sts["rabbitmq"]["spec"]["replicas"] == 3
    assert sts["mongodb"]["spec"]["replicas"] == 3
    assert "--replSet=rs0" in _pod_spec(sts["mongodb"])["containers"][0]["args"]
    pdbs = by_kind(render(tree), "PodDisruptionBudget")
    assert pdbs["rabbitmq"]["spec"]["minAvailable"] == 2
    assert pdbs["mongodb"]["spec"]["minAvailable"] == 2


def test_gateway_ingress(tree: str) -> None:
    ing = by_kind(render(tree), "Ingress")["gateway"]
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    backends = [p["backend"]["service"]["name"] for r in ing["spec"]["rules"] for p in r["http"]["paths"]]
    assert backends == ["gateway"]
    if tree == "prod":
        assert ing["spec"]["tls"]


def _selects(selector: dict, labels: dict) -> bool:
    for k, v in selector.get("matchLabels", {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions", []):
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def test_network_policies_cover_every_pod(tree: str) -> None:
    docs = render(tree)
    pols = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert any(p["spec"]["podSelector"] == {} and "Ingress" in p["spec"]["policyTypes"]
               and not p["spec"].get("ingress") for p in pols), "default deny missing"
    pod_labels = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
                  for d in docs if d["kind"] in ("Deployment", "StatefulSet")}
    for name, labels in pod_labels.items():
        allowing = [p for p in pols if p["spec"]["podSelector"] and _selects(p["spec"]["podSelector"], labels)]
        assert allowing, f"{name}: no policy admits any traffic"

    def peers_for(target: str) -> list[dict]:
        return [peer for p in pols
                if p["spec"]["podSelector"] and _selects(p["spec"]["podSelector"], pod_labels[target])
                for rule in p["spec"].get("ingress", []) for peer in rule.get("from", [])]

    # infra is reachable from app pods, never from "everything"
    for infra in ("rabbitmq", "mongodb"):
        peers = peers_for(infra)
        assert peers and all(p for p in peers), f"{infra}: empty peer admits all"
        assert any("podSelector" in p and "namespaceSelector" not in p
                   and _selects(p["podSelector"], pod_labels["visits"]) for p in peers), infra
        assert not any("podSelector" in p and "namespaceSelector" not in p
                       and _selects(p["podSelector"], {"app.kubernetes.io/name": "other"}) for p in peers)
    # services admit the gateway and each other
    for svc in SERVICES:
        peers = peers_for(svc)
        assert any("podSelector" in p and _selects(p["podSelector"], pod_labels["gateway"]) for p in peers)
        assert any("podSelector" in p and _selects(p["podSelector"], pod_labels["pool"]) for p in peers)


def test_dashboards_and_rules_are_provisioned(tree: str) -> None:
    cms = by_kind(render(tree), "ConfigMap")
    dash = cms["crm-grafana-dashboards"]
    assert dash["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert sorted(dash["data"]) == sorted(f"{a}.json" for a in APPS)
    for text in dash["data"].values():
        json.loads(text)
    assert "alerts.yaml" in cms["crm-prometheus-rules"]["data"]
