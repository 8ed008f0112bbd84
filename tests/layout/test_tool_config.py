"""One lint configuration for the whole tree: ruff reads the nearest ``pyproject.toml`` that
has a ``[tool.ruff]`` table (or a ``ruff.toml``), so a second one would silently override the
root rules for everything below it (the gateway's did: other line length, fewer rules)."""
from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", "--", *patterns], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return sorted({ROOT / line for line in out.splitlines() if line})


def test_only_the_root_configures_ruff():
    configs = [p for p in _tracked("*pyproject.toml") if "ruff" in tomllib.loads(p.read_text()).get("tool", {})]
    assert configs == [ROOT / "pyproject.toml"]
    assert _tracked("*ruff.toml") == []
