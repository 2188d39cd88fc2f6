#!/usr/bin/env bash
# Installs bun 1.4.4 from the npm registry when it is absent or another version, and the
# project's dependencies from the lockfile. Sourced by the test, demo and bench entry points.
set -euo pipefail
if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version 2>/dev/null)" != "1.4.4" ]; then
  echo "installing bun 1.4.4 (npm)…" >&2
  npm install -g bun@1.4.4 >/dev/null 2>&1 || { echo "could not install bun with npm" >&2; exit 1; }
fi
bun install --frozen-lockfile >/dev/null
