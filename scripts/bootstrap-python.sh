#!/usr/bin/env bash
# Create .venv from requirements.lock (pinned, hashes of the resolution) with uv.
# Idempotent: does nothing when the venv already matches the lock.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
UV_VERSION="0.13.8"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | awk '{print $2}')" != "$UV_VERSION" ]; then
  "$PY" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
stamp=".venv/.lock-$(sha256sum requirements.lock | cut -c1-16)"
[ -f "$stamp" ] && exit 0
[ -x .venv/bin/python ] || uv venv -q -p "$PY" .venv
VIRTUAL_ENV="$ROOT/.venv" uv pip sync -q requirements.lock
rm -f .venv/.lock-*
touch "$stamp"
