"""Images: multi-stage, only their own code, non-root, with a health check; no `latest`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.ops.conftest import ROOT
from tests.ops.metric_names import SERVICES

IMAGES = {name: (ROOT / "services" / name / "Dockerfile", f"services/{name}") for name in SERVICES}
IMAGES["gateway"] = (ROOT / "gateway" / "Dockerfile", "gateway")
ALLOWED_FROM = re.compile(r"^python:3\.11\.\d+-slim-(bookworm|trixie)$")
#: the gateway image builds the web app (web/) in a pinned Node stage (decision 0006)
WEB_STAGE_FROM = re.compile(r"^node:20\.\d+\.\d+-(bookworm|trixie)-slim$")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def stages(ins: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for i in ins:
        if i[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(i)
    return result


def _exec_form(args: str) -> list[str]:
    import json
    return json.loads(args)


@pytest.fixture(params=sorted(IMAGES), scope="module")
def image(request: pytest.FixtureRequest) -> tuple[str, Path, str, list[tuple[str, str]]]:
    name = request.param
    path, own_dir = IMAGES[name]
    assert path.is_file(), f"{path} missing"
    return name, path, own_dir, instructions(path)


def test_multi_stage_from_pinned_slim_python(image) -> None:
    name, _, _, ins = image
    froms = [a for k, a in ins if k == "FROM"]
    assert len(froms) >= 2, f"{name}: not multi-stage"
    for f in froms:
        base = f.split()[0]
        if name == "gateway" and WEB_STAGE_FROM.match(base):
            assert f.split()[-1] == "web" and f != froms[-1], f"{name}: the Node stage only builds the web app"
            continue
        assert ALLOWED_FROM.match(base), f"{name}: FROM {base} is not a pinned python:3.11.x-slim tag"
        assert "latest" not in f


def test_copies_only_crmkit_and_its_own_dir(image) -> None:
    name, _, own_dir, ins = image
    allowed = {"libs/crmkit", own_dir} | ({"web"} if name == "gateway" else set())
    for k, args in ins:
        if k != "COPY":
            continue
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        if "--from=" in args:
            continue  # copies between stages
        sources = parts[:-1]
        assert sources, f"{name}: bad COPY {args}"
        for src in sources:
            norm = src.rstrip("/")
            assert any(norm == a or norm.startswith(a + "/") for a in allowed), \
                f"{name}: COPY {src} is outside {sorted(allowed)}"
            assert "test" not in norm, f"{name}: copies tests ({src})"


def test_pip_installs_only_crmkit_and_its_own_package(image) -> None:
    name, _, own_dir, ins = image
    installs = [a for k, a in ins if k == "RUN" and "pip install" in a]
    assert len(installs) == 1, f"{name}: expected one pip install, got {installs}"
    cmd = installs[0].split("&&")[0]
    words = shlex.split(cmd)
    targets = [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    normal = sorted(re.sub(r"\[.*\]$", "", t).removeprefix("./").rstrip("/") for t in targets)
    assert normal == sorted(["libs/crmkit", own_dir]), f"{name}: pip installs {targets}"
    assert not any(w == "-e" or w.startswith("--editable") for w in words), "editable install in an image"


def test_final_stage_is_non_root_with_healthcheck_and_cmd(image) -> None:
    name, _, _, ins = image
    final = stages(ins)[-1]
    users = [a for k, a in final if k == "USER"]
    assert users, f"{name}: no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) >= 10000, f"{name}: USER {users[-1]} (want a numeric non-root uid)"
    assert any(k == "COPY" and "--from=" in a for k, a in final), f"{name}: final stage does not copy the venv"
    assert not any(k == "RUN" and "pip" in a for k, a in final), f"{name}: pip in the final stage"
    hc = [a for k, a in final if k == "HEALTHCHECK"]
    assert hc, f"{name}: no HEALTHCHECK"
    cmd = [a for k, a in final if k == "CMD"]
    assert cmd, f"{name}: no CMD"
    if name == "gateway":
        assert "http://127.0.0.1:8000/healthz" in hc[0]
        assert _exec_form(cmd[-1]) == ["python", "-m", "gateway"]
    else:
        assert "http://127.0.0.1:9100/livez" in hc[0]
        assert _exec_form(cmd[-1]) == [
            "nameko", "run", "--config", "/app/config.yaml", f"{name}.service:{name.capitalize()}Service"]
        env = " ".join(a for k, a in final if k == "ENV")
        assert "EVENTLET_NO_GREENDNS=yes" in env


def test_dockerignore_keeps_tests_and_local_state_out() -> None:
    lines = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "*", "allow-list .dockerignore should start by excluding everything"
    for needle in ("**/tests/", "**/__pycache__/", "**/*.egg-info/", "**/conftest.py"):
        assert needle in lines
    allowed = [ln[1:] for ln in lines if ln.startswith("!")]
    assert not any("test" in a for a in allowed)
    assert not any(a.startswith((".", "deploy", "docs", "bench", "tests")) for a in allowed)


LATEST = re.compile(r"(image:\s*\S+:latest\b|:latest[\s\"']|newTag:\s*[\"']?latest\b|FROM\s+\S+:latest\b)")


def test_no_latest_tag_anywhere() -> None:
    files = [p for p in (ROOT / "deploy").rglob("*") if p.is_file()]
    files += [path for path, _ in IMAGES.values()]
    hits = []
    for p in files:
        if p.suffix in (".yaml", ".yml", ".json", "") or p.name == "Dockerfile":
            for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
                if LATEST.search(line + "\n"):
                    hits.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("name", ["identity", "customers", "pool", "visits", "notify"])
def test_image_command_names_a_real_nameko_service_class(name):
    import importlib

    module = importlib.import_module(f"{name}.service")
    cls = getattr(module, f"{name.capitalize()}Service")
    assert cls.name == name
