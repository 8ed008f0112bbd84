"""Fixtures for the deployment tests: pinned tools and rendered kustomize trees.

The tools live in .tools/bin (scripts/install-ops-tools.sh puts them there).
A missing tool is a failure, not a skip: these tests are the only check the
manifests get before a cluster sees them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
MONITORING = K8S / "base" / "monitoring"
TOOLS = ROOT / ".tools" / "bin"
KUSTOMIZE = TOOLS / "kustomize"
PROMTOOL = TOOLS / "promtool"
TREES = {"base": K8S / "base", "dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}


def require_tool(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run scripts/install-ops-tools.sh", pytrace=False)
    return path


@pytest.fixture(scope="session")
def kustomize() -> Path:
    return require_tool(KUSTOMIZE)


@pytest.fixture(scope="session")
def promtool() -> Path:
    return require_tool(PROMTOOL)


_rendered: dict[str, list[dict]] = {}


def render(tree: str) -> list[dict]:
    """`kustomize build` of base/dev/prod, parsed (cached per session)."""
    if tree not in _rendered:
        kbin = require_tool(KUSTOMIZE)
        proc = subprocess.run([str(kbin), "build", str(TREES[tree])],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"kustomize build {tree} failed:\n{proc.stderr}"
        _rendered[tree] = [d for d in yaml.safe_load_all(proc.stdout) if d]
    return _rendered[tree]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}
