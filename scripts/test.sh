#!/usr/bin/env bash
# `npm test` (or `bun run test`) — the whole test suite, on a fresh Debian machine too: installs what it lacks
# (bun, dependencies, PostgreSQL, RabbitMQ, Chromium, promtool, podman), starts a private Postgres and a private RabbitMQ on
# free ports, then runs lint, typecheck, the migration freshness check, the build of the binary,
# and `bun test` against real SQLite, Postgres and RabbitMQ.
# Its last line is always "N passed, N failed", whatever the exit path: a step that fails before
# the tests run (install, service start, lint, typecheck, build) counts as one failure.
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
work=""

cleanup() {
  if [ -n "$work" ]; then
    scripts/rabbitmq.sh stop "$work/rabbitmq" >/dev/null 2>&1 || true
    scripts/postgres.sh stop "$work/postgres" >/dev/null 2>&1 || true
    rm -rf "$work"
  fi
}
# The one place the summary is printed, so no exit path can skip it.
finish() {
  local status=$?
  trap - EXIT
  cleanup
  if [ "$status" -ne 0 ] && [ "$failed" = "0" ]; then failed=1; fi
  echo "$passed passed, $failed failed"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The count bun prints on its summary line for WORD (pass|fail), 0 when absent. Colour codes and
# carriage returns are removed first: FORCE_COLOR or a terminal-like CI makes bun colour them.
count() {
  sed -E $'s|\x1B\\[[0-9;?]*[ -/]*[@-~]||g; s|\r||g' "$2" |
    grep -Eo "^ *[0-9]+ $1 *\$" | tail -n 1 | grep -Eo '[0-9]+' || echo 0
}

scripts/ensure-bun.sh
scripts/postgres.sh install
scripts/rabbitmq.sh install

# Debian's Chromium for the dashboard's browser tests (test/ui, driven by playwright-core).
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# promtool (Debian's prometheus package) for the chart's alerting-rule tests (test/chart).
if ! command -v promtool >/dev/null 2>&1; then
  echo "== installing prometheus (promtool)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# podman, runc and debootstrap for the container test (test/container: it builds the image with
# scripts/image.sh, making the base images once per machine, and runs the chart's pods).
scripts/podman.sh --with-debootstrap >/dev/null

work=$(mktemp -d /tmp/item-sync-test.XXXXXX)
chmod 755 "$work"

pg_port=$(scripts/rabbitmq.sh free-port)
amqp_port=$(scripts/rabbitmq.sh free-port)
while [ "$amqp_port" = "$pg_port" ]; do amqp_port=$(scripts/rabbitmq.sh free-port); done
scripts/postgres.sh start "$work/postgres" "$pg_port"
scripts/rabbitmq.sh start "$work/rabbitmq" "$amqp_port"
export TEST_PG_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
export TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$amqp_port"

echo "== lint" >&2
bun run lint >/dev/null 2>"$work/lint.log" || { cat "$work/lint.log" >&2; exit 1; }
echo "== typecheck" >&2
bun run typecheck >&2
bun scripts/gen-migrations.ts --check >&2
echo "== build" >&2
bun run build >&2

echo "== bun test" >&2
set +e
# --timeout also bounds beforeAll/afterAll hooks (bunfig.toml's timeout reaches only the tests, and
# a hook's default of 5 s is too short to start a binary or a browser on a loaded machine).
bun test --timeout 60000 "$@" 2>&1 | tee "$work/test.log"
status=${PIPESTATUS[0]}
set -e
passed=$(count pass "$work/test.log")
failed=$(count fail "$work/test.log")
exit "$status"
