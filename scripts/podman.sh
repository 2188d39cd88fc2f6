#!/usr/bin/env bash
# Makes podman usable here: installs Debian's podman and runc when missing (apt-get), and prints
# the containers.conf to use (scripts/podman/containers.conf unless CONTAINERS_CONF is set).
#
#   export CONTAINERS_CONF=$(scripts/podman.sh)
#
# Idempotent; prints nothing else on stdout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
if [ "${1:-}" = "--with-debootstrap" ] && ! command -v debootstrap >/dev/null 2>&1; then
  missing+=(debootstrap)
fi
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "podman.sh: install ${missing[*]} (needs root: apt-get install ${missing[*]})" >&2; exit 1; }
  echo "== installing ${missing[*]} (apt)" >&2
  apt-get update -qq >/dev/null
  # with the recommended packages: podman's network backend (netavark, CNI plugins) and helpers
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "${CONTAINERS_CONF:-$repo/scripts/podman/containers.conf}"
