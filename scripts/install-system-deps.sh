#!/usr/bin/env bash
# System packages the visit reports need: a CJK font so chart labels in Chinese render
# (matplotlib finds it by path or through fontconfig). Idempotent: does nothing when
# the font is already installed.
set -euo pipefail

FONT_PKGS=(fonts-wqy-microhei fontconfig)

missing=()
for p in "${FONT_PKGS[@]}"; do
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
echo "system deps ok: ${FONT_PKGS[*]}"
