#!/usr/bin/env bash
# Build the web app (web/ -> web/dist) when its sources changed; `npm ci` only when the lock
# changed. Node and npm come from the machine, packages from the npm registry (pinned in
# web/package-lock.json). Idempotent: a stamp on a hash of the sources and the lock.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"
cd "$WEB"

command -v npm >/dev/null 2>&1 || { echo "build-web: npm is missing (Node >= 20.19 is needed)" >&2; exit 1; }

lock_hash="$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "node_modules/.lock-$lock_hash" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  rm -f node_modules/.lock-*
  touch "node_modules/.lock-$lock_hash"
fi

src_hash="$( { sha256sum package-lock.json package.json vite.config.ts tsconfig*.json m/index.html console/index.html;
               find src scripts -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)"
if [ -f "dist/.stamp-$src_hash" ]; then
  exit 0
fi
npm run --silent build
touch "dist/.stamp-$src_hash"
