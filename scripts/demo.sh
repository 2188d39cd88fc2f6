#!/usr/bin/env bash
# `npm run demo`: the main job end to end on the embedded defaults — see scripts/demo.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-bun.sh
scripts/rabbitmq.sh install
exec bun scripts/demo.ts "$@"
