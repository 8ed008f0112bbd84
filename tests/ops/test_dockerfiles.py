"""Images: multi-stage, only their own code, non-root, with a health check; no `latest`.

The five services share one recipe, ``services/Dockerfile``, whose build argument ``SERVICE``
names the service; each is checked here as its own image (the file read with that argument).
No Docker engine runs here: the Dockerfiles are parsed, their sources, pins and packages checked
against the repository, the lock and the installed metadata."""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.ops.conftest import ROOT
from tests.ops.metric_names import SERVICES

SERVICE_DOCKERFILE = ROOT / "services" / "Dockerfile"
#: image -> (Dockerfile, its own directory, build arguments)
IMAGES: dict[str, tuple[Path, str, dict[str, str]]] = {
    name: (SERVICE_DOCKERFILE, f"services/{name}", {"SERVICE": name}) for name in SERVICES}
IMAGES["gateway"] = (ROOT / "gateway" / "Dockerfile", "gateway", {})
LOCK = ROOT / "requirements.lock"
ALLOWED_FROM = re.compile(r"^python:3\.11\.\d+-slim-(bookworm|trixie)$")
#: the gateway image builds the web app (web/) in a pinned Node stage (decision 0006)
WEB_STAGE_FROM = re.compile(r"^node:20\.\d+\.\d+-(bookworm|trixie)-slim$")


def instructions(path: Path, build_args: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped; the
    declared build arguments (``ARG NAME``) replaced by ``build_args`` (``${NAME}``/``$NAME``)."""
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
    declared = {a.split("=")[0] for k, a in out if k == "ARG"}
    for name in declared:
        assert build_args and name in build_args, f"{path}: build argument {name} not given"
        pattern = re.compile(rf"\$\{{{name}\}}|\${name}\b")
        out = [(k, pattern.sub(build_args[name], a)) for k, a in out]
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
    path, own_dir, build_args = IMAGES[name]
    assert path.is_file(), f"{path} missing"
    return name, path, own_dir, instructions(path, build_args)


def _dockerignore_allowed() -> list[str]:
    return [ln.strip()[1:].rstrip("/") for ln in (ROOT / ".dockerignore").read_text().splitlines()
            if ln.strip().startswith("!")]


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
    """And every source exists and is in the build context (.dockerignore's allow-list)."""
    name, _, own_dir, ins = image
    allowed = {"libs/crmkit", own_dir, "requirements.lock"} | ({"web"} if name == "gateway" else {"libs/contracts"})
    context = _dockerignore_allowed()
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
            assert "$" not in norm and (ROOT / norm).exists(), f"{name}: COPY {src} does not exist"
            assert any(c == norm or c.startswith(norm + "/") or norm.startswith(c + "/") for c in context), \
                f"{name}: COPY {src} is not in the build context (.dockerignore)"


def test_pip_installs_only_crmkit_and_its_own_package(image) -> None:
    name, _, own_dir, ins = image
    installs = [a for k, a in ins if k == "RUN" and "pip install" in a]
    assert len(installs) == 1, f"{name}: expected one pip install, got {installs}"
    cmd = next(c for c in installs[0].split("&&") if "pip install" in c)
    words = shlex.split(cmd)
    targets = [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    targets = [t for t in targets if t != "constraints.txt"]
    normal = sorted(re.sub(r"\[.*\]$", "", t).removeprefix("./").rstrip("/") for t in targets)
    # a service's crmkit[nameko] checks its messages against libs/contracts (the gateway's crmkit does not)
    own = ["libs/crmkit", own_dir] + ([] if name == "gateway" else ["libs/contracts"])
    assert normal == sorted(own), f"{name}: pip installs {targets}"
    assert not any(w == "-e" or w.startswith("--editable") for w in words), "editable install in an image"
    # every version from the lock: its pins as constraints (the gateway's image too)
    assert words[words.index("install") + 1:][:2] == ["--constraint", "constraints.txt"], words
    made = installs[0].split("&&")
    assert any(shlex.split(m) == ["pip", "check"] for m in made), f"{name}: no pip check"
    run = [a for k, a in ins if k == "RUN" and "constraints.txt" in a][0]
    assert run.startswith("grep -v '^-e ' requirements.lock > constraints.txt"), run


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
        env = " ".join(a for k, a in final if k == "ENV")
        assert "EVENTLET_NO_GREENDNS=yes" in env
        sh, flag, script = _exec_form(cmd[-1])
        assert (sh, flag) == ("sh", "-c") and script.startswith("exec ")  # nameko is PID 1
        target = _nameko_target(final)
        command = shlex.split(script.replace("$(cat /app/nameko-service)", target))[1:]
        # the command Kubernetes gives the same image (tests/ops/test_kustomize.py)
        assert command == [
            "nameko", "run", "--config", "/app/config.yaml", f"{name}.service:{name.capitalize()}Service"]
        assert [a for k, a in final if k == "COPY" and "--from=" not in a] == [
            f"services/{name}/config.yaml /app/config.yaml"]


def _nameko_target(final: list[tuple[str, str]]) -> str:
    """Runs the final stage's step that writes /app/nameko-service (plain CPython, as in the image)."""
    import subprocess

    run = next(a for k, a in final if k == "RUN" and "/app/nameko-service" in a)
    words = shlex.split(run)
    assert words[:2] == ["python", "-c"] and words[-2:] == [">", "/app/nameko-service"], words
    out = subprocess.run([sys.executable, "-c", *words[2:-2]], check=True, capture_output=True, text=True,
                         timeout=30)
    return out.stdout.strip()


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
    files += sorted({path for path, _, _ in IMAGES.values()})
    hits = []
    for p in files:
        if p.suffix in (".yaml", ".yml", ".json", "") or p.name == "Dockerfile":
            for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
                if LATEST.search(line + "\n"):
                    hits.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("name", ["identity", "customers", "pool", "visits", "notify"])
def test_image_command_names_a_real_nameko_service_class(name):
    """The image's `nameko run <name>.service:<Name>Service` starts exactly that one class."""
    import importlib

    from nameko.cli.run import import_service

    module = importlib.import_module(f"{name}.service")
    cls = getattr(module, f"{name.capitalize()}Service")
    assert cls.name == name
    assert import_service(f"{name}.service:{name.capitalize()}Service") == [cls]


# ------------------------------------------------------------------ the one service recipe
def _case_arms(run: str) -> dict[str, str]:
    """``case "<arg>" in a|b) body ;; ... esac`` -> {pattern: body} (one level, as written here)."""
    body = run.split(" in ", 1)[1].rsplit("esac", 1)[0]
    arms: dict[str, str] = {}
    for arm in body.split(";;"):
        if ")" in arm:
            patterns, _, action = arm.partition(")")
            for pattern in patterns.strip().split("|"):
                arms[pattern.strip()] = action.strip()
    return arms


def test_one_recipe_for_the_five_services() -> None:
    assert not sorted(ROOT.glob("services/*/Dockerfile")), "one services/Dockerfile, no Dockerfile per service"
    assert {p.parent.name for p in ROOT.glob("services/*/pyproject.toml")} == set(SERVICES)
    raw = instructions(SERVICE_DOCKERFILE, {"SERVICE": "$SERVICE"})  # the argument left open
    builder = stages(raw)[0]
    assert builder[1] == ("ARG", "SERVICE"), "the builder declares SERVICE first"
    check = builder[2]
    assert check[0] == "RUN" and check[1].startswith('case "$SERVICE" in')
    arms = _case_arms(check[1])
    assert set(arms) == set(SERVICES) | {"*"} and arms["*"].endswith("exit 1"), arms
    assert all(not arms[s] for s in SERVICES), "a known service passes the check unchanged"
    assert ("ARG", "SERVICE") in stages(raw)[-1], "the final stage declares SERVICE too"
    context = _dockerignore_allowed()
    for name in SERVICES:  # the argument maps to a service the build context holds
        own = ROOT / "services" / name
        assert (own / "config.yaml").is_file() and (own / name / "service.py").is_file(), name
        for part in ("pyproject.toml", "config.yaml", name):
            assert f"services/{name}/{part}" in context, f".dockerignore leaves out services/{name}/{part}"


def test_only_visits_installs_system_packages_and_they_are_pinned() -> None:
    """visits gets the CJK font and fc-list (photos.cjk_font_path, charts.cjk_family); the
    others get no system package. Pillow's libraries come inside its wheels (no apt)."""
    for name in SERVICES:
        final = stages(instructions(SERVICE_DOCKERFILE, {"SERVICE": name}))[-1]
        apt = [a for k, a in final if k == "RUN" and "apt-get" in a]
        assert len(apt) == 1, name
        arms = _case_arms(apt[0])
        assert set(arms) == {"visits"}, f"{name}: apt-get outside the visits arm"
    final = stages(instructions(SERVICE_DOCKERFILE, {"SERVICE": "visits"}))[-1]
    script = _case_arms(next(a for k, a in final if k == "RUN" and "apt-get" in a))["visits"]
    install = next(c for c in script.split("&&") if "apt-get install" in c)
    packages = [w for w in shlex.split(install) if not w.startswith("-") and w not in ("apt-get", "install")]
    assert sorted(p.split("=")[0] for p in packages) == ["fontconfig", "fonts-wqy-microhei"]
    assert all(re.fullmatch(r"[a-z0-9.+-]+=[A-Za-z0-9.+~:-]+", p) for p in packages), packages
    assert "--no-install-recommends" in install and "rm -rf /var/lib/apt/lists/*" in script


def _lock_pins() -> dict[str, set[str]]:
    pins: dict[str, set[str]] = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-e "):
            continue
        spec = line.split(";", 1)[0].strip()
        assert "==" in spec, f"requirements.lock: {line} is not pinned"
        dist, version = spec.split("==", 1)
        pins.setdefault(canonicalize_name(dist), set()).add(version.strip())
    return pins


#: the repository's own packages (installed from their folders)
OWN = {"crmkit", "crm-contracts", "crm-gateway", *(f"crm-{s}" for s in SERVICES)}
FOLDERS = {"crmkit": ROOT / "libs" / "crmkit", "crm-contracts": ROOT / "libs" / "contracts",
           "crm-gateway": ROOT / "gateway"}


def _requires(dist: str) -> list[str]:
    """A distribution's requirements: the repository's own from their pyproject.toml (what the
    image builds from, even when the venv is stale), the others from their installed metadata."""
    if dist not in OWN:
        return importlib.metadata.distribution(dist).requires or []
    import tomllib

    folder = FOLDERS.get(dist) or ROOT / "services" / dist.removeprefix("crm-")
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    out = list(project.get("dependencies", []))
    for extra, reqs in project.get("optional-dependencies", {}).items():
        out += [f'{r}; extra == "{extra}"' for r in reqs]
    return out


def _image_packages(service: str) -> dict[str, set[str]]:
    """Every distribution ``pip install ./libs/crmkit[nameko] ./services/<service>`` installs
    (the transitive requirements, markers evaluated for the image: Linux, CPython 3.11) ->
    the packages that asked for it."""
    env = {**default_environment(), "sys_platform": "linux", "platform_system": "Linux",
           "os_name": "posix", "python_version": "3.11", "implementation_name": "cpython"}
    env["python_full_version"] = "3.11.11"
    seen: dict[str, set[str]] = {}
    kit = "crmkit" if service == "gateway" else "crmkit[nameko]"
    todo: list[tuple[Requirement, str]] = [(Requirement(kit), "image"), (Requirement(f"crm-{service}"), "image")]
    while todo:
        req, by = todo.pop()
        dist = canonicalize_name(req.name)
        first = dist not in seen
        seen.setdefault(dist, set()).add(by)
        extras = set(req.extras)
        if not first and not extras:
            continue
        for raw in _requires(dist):
            sub = Requirement(raw)
            if sub.marker is None or any(sub.marker.evaluate({**env, "extra": e}) for e in extras | {""}):
                todo.append((sub, dist))
    return seen


@pytest.mark.parametrize("service", [*SERVICES, "gateway"])
def test_every_package_an_image_installs_is_pinned_in_the_lock(service: str) -> None:
    """The constraints are the lock: a package of the image missing from it would be installed
    at whatever version PyPI has that day."""
    assert sys.version_info[:2] == (3, 11), "the images run CPython 3.11"
    pins = _lock_pins()
    packages = _image_packages(service)
    missing = sorted(set(packages) - OWN - set(pins))
    assert not missing, f"{service}: not in requirements.lock: {missing}"
    for dist in set(packages) - OWN:  # the lock pins what the checks ran with
        assert importlib.metadata.version(dist) in pins[dist], (service, dist)


#: direct requirements no module imports, and why the image still needs them
NOT_IMPORTED = {"setuptools": "nameko 2.14.1's command line imports pkg_resources"}


def _imports(code_dir: Path) -> set[str]:
    names: set[str] = set()
    for path in code_dir.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for m in re.finditer(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", path.read_text(), re.M):
            names.add(m.group(1))
    return names


@pytest.mark.parametrize("package", ["crmkit", *(f"crm-{s}" for s in SERVICES)])
def test_no_unused_package_in_the_images(package: str) -> None:
    """Every direct requirement of crmkit[nameko] and of each service is imported by that
    package's own code (or NOT_IMPORTED says why not): nothing rides into an image unused."""
    code = ROOT / "libs" / "crmkit" / "crmkit" if package == "crmkit" else \
        ROOT / "services" / package.removeprefix("crm-") / package.removeprefix("crm-")
    imported = _imports(code)
    providers = importlib.metadata.packages_distributions()
    provided = {canonicalize_name(d) for name in imported for d in providers.get(name, [])}
    for raw in _requires(package):
        req = Requirement(raw)
        dist = canonicalize_name(req.name)
        if req.marker is not None and not req.marker.evaluate({"extra": "nameko"}):
            continue  # other extras are not in the images
        if dist in OWN or dist in NOT_IMPORTED:
            continue
        assert dist in provided, f"{package} requires {req.name}, which its code never imports"
