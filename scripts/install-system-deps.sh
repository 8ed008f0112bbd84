#!/usr/bin/env bash
# System packages from Debian that the project needs:
# - a CJK font so chart labels in Chinese render (matplotlib finds it by path or through
#   fontconfig) and so the browser tests' screenshots show Chinese;
# - Chromium for the browser tests (Playwright drives /usr/bin/chromium: its own browser
#   download cannot be reached from these machines).
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PKGS=(fonts-wqy-microhei fonts-noto-cjk fontconfig chromium)

missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fc-cache -f >/dev/null 2>&1 || true
fi
echo "system deps ok: ${PKGS[*]}"
