#!/usr/bin/env bash
# Install the tools the ops tests need (tests/ops). Idempotent: each tool is
# installed only when missing or at the wrong version.
#   kustomize  -> .tools/bin/kustomize   (go install, pinned)
#   promtool   -> .tools/bin/promtool    (symlink to Debian's `prometheus` package)
#   kubernetes-validate (PyPI, pinned) into the project venv
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="${ROOT}/.tools/bin"
VENV="${VENV:-${ROOT}/.venv}"

KUSTOMIZE_VERSION="v5.8.1"
KUBERNETES_VALIDATE_VERSION="1.37.0"
PROMETHEUS_DEB="prometheus"   # bookworm: 2.42.0+ds-5+deb12u1

mkdir -p "${TOOLS_BIN}"

# --- kustomize ---------------------------------------------------------------
have_kustomize() {
  [ -x "${TOOLS_BIN}/kustomize" ] &&
    "${TOOLS_BIN}/kustomize" version 2>/dev/null | grep -q "${KUSTOMIZE_VERSION}"
}
if have_kustomize; then
  echo "kustomize ${KUSTOMIZE_VERSION} already in ${TOOLS_BIN}"
else
  command -v go >/dev/null || { echo "go toolchain required to install kustomize" >&2; exit 1; }
  echo "installing kustomize ${KUSTOMIZE_VERSION}"
  GOBIN="${TOOLS_BIN}" GOFLAGS="-mod=mod" \
    go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}"
fi

# --- promtool ----------------------------------------------------------------
if [ -x "${TOOLS_BIN}/promtool" ] && "${TOOLS_BIN}/promtool" --version >/dev/null 2>&1; then
  echo "promtool already in ${TOOLS_BIN}"
else
  if ! command -v promtool >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "installing Debian package ${PROMETHEUS_DEB} for promtool"
    ${SUDO} apt-get update -qq
    DEBIAN_FRONTEND=noninteractive ${SUDO} apt-get install -y -qq --no-install-recommends "${PROMETHEUS_DEB}"
  fi
  ln -sf "$(command -v promtool)" "${TOOLS_BIN}/promtool"
fi

# --- kubernetes-validate (python) --------------------------------------------
if [ -x "${VENV}/bin/python" ]; then
  if "${VENV}/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('kubernetes-validate') != '${KUBERNETES_VALIDATE_VERSION}')" 2>/dev/null; then
    echo "kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} already in ${VENV}"
  else
    echo "installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} into ${VENV}"
    if command -v uv >/dev/null 2>&1; then
      VIRTUAL_ENV="${VENV}" uv pip install "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"
    else
      "${VENV}/bin/python" -m pip install "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"
    fi
  fi
fi

"${TOOLS_BIN}/kustomize" version
"${TOOLS_BIN}/promtool" --version | head -1
