#!/usr/bin/env bash
# `npm run image`: builds localhost/item-sync:<version> and localhost/item-sync:latest from the
# repository's Dockerfile with podman (installed with apt-get when missing).
#
# The Dockerfile starts FROM oven/bun (builder) and debian:bookworm-slim (runtime). When those
# can be pulled, they are used as they are. When no image registry is reachable, this script makes
# equivalent bases locally, once per machine (they stay in podman's store and are reused):
#   localhost/item-sync-base/debian:bookworm-slim  Debian bookworm from debootstrap (minbase),
#                                                  trimmed like the slim image
#   localhost/item-sync-base/bun:<bun version>     that + bun's binary from the npm registry and
#                                                  the build host's CA bundle (for npm over TLS in
#                                                  the builder only; the runtime image never gets it)
# and passes them to the build as BUN_IMAGE and RUNTIME_IMAGE. The Dockerfile is unchanged, so
# `docker build -t item-sync .` keeps working on a machine with Docker.
#
#   scripts/image.sh                build (prints the image name on stdout at the end)
#   scripts/image.sh --bases-only   only make sure the base images exist
#   IMAGE_REBUILD_BASES=1 …         remake the local base images
set -euo pipefail
cd "$(dirname "$0")/.."

CONTAINERS_CONF=$(scripts/podman.sh --with-debootstrap)
export CONTAINERS_CONF

version=$(bun -e 'console.log((await Bun.file("package.json").json()).version)' 2>/dev/null ||
  node -p 'require("./package.json").version')
bun_version=$(sed -n 's/^ARG BUN_VERSION=//p' Dockerfile)
[ -n "$bun_version" ] || { echo "image.sh: no ARG BUN_VERSION in the Dockerfile" >&2; exit 1; }
upstream_bun="docker.io/oven/bun:$bun_version"
upstream_debian="docker.io/library/debian:bookworm-slim"
local_debian="localhost/item-sync-base/debian:bookworm-slim"
local_bun="localhost/item-sync-base/bun:$bun_version"

cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

log() { echo "== $*" >&2; }
have() { podman image exists "$1"; }

# Pull an upstream base (quietly); false when no registry answers.
pull() { have "$1" || timeout 300 podman pull -q "$1" >/dev/null 2>&1; }

make_debian() {
  if have "$local_debian" && [ -z "${IMAGE_REBUILD_BASES:-}" ]; then return; fi
  log "making $local_debian with debootstrap (once per machine, ~90 s)"
  local root
  root=$(mktemp -d /var/tmp/item-sync-rootfs.XXXXXX)
  cleanup+=("$root")
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$root.log" 2>&1 ||
    { tail -n 20 "$root.log" >&2; echo "image.sh: debootstrap failed" >&2; exit 1; }
  rm -f "$root.log"
  cat >"$root/etc/apt/sources.list" <<'LIST'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
LIST
  # What the official slim image leaves out: documentation, manuals, translations, apt caches.
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
  # …and apt's caches, as the official image's /etc/apt/apt.conf.d/docker-* files do (else an
  # `apt-get update` in a derived image leaves ~80 MB of package caches in its layer).
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
APT
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,locale,lintian}/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* \
    "$root"/tmp/* "$root"/dev/* "$root"/proc/* "$root"/sys/*
  tar --numeric-owner -C "$root" -c . |
    podman import -q \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$local_debian" >/dev/null
}

make_bun() {
  if have "$local_bun" && [ -z "${IMAGE_REBUILD_BASES:-}" ]; then return; fi
  log "making $local_bun (bun $bun_version from npm)"
  local ctx pkg
  case "$(uname -m)" in
    x86_64) pkg="@oven/bun-linux-x64" ;;
    aarch64) pkg="@oven/bun-linux-aarch64" ;;
    *) echo "image.sh: no bun package for $(uname -m)" >&2; exit 1 ;;
  esac
  ctx=$(mktemp -d /var/tmp/item-sync-bun.XXXXXX)
  cleanup+=("$ctx")
  (cd "$ctx" && npm pack -q "$pkg@$bun_version" >/dev/null 2>&1) ||
    { echo "image.sh: npm pack $pkg@$bun_version failed" >&2; exit 1; }
  tar -xzf "$ctx"/*.tgz -C "$ctx" package/bin/bun
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat >"$ctx/Containerfile" <<CF
FROM $local_debian
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY package/bin/bun /usr/local/bin/bun
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
RUN chmod 755 /usr/local/bin/bun && ln -s bun /usr/local/bin/bunx && bun --version
WORKDIR /home/bun/app
CF
  podman build -q --format docker --network host -t "$local_bun" "$ctx" >/dev/null
}

build_args=()
if pull "$upstream_bun" && pull "$upstream_debian"; then
  log "using the upstream base images"
else
  make_debian
  make_bun
  build_args=(--build-arg "BUN_IMAGE=$local_bun" --build-arg "RUNTIME_IMAGE=$local_debian")
fi
[ "${1:-}" = "--bases-only" ] && exit 0

image="localhost/item-sync:$version"
log "building $image"
# --format docker keeps the HEALTHCHECK (OCI images have none); --network host lets the builder's
# `bun install` and the runtime's apt-get reach the registries.
podman build --format docker --network host "${build_args[@]}" \
  -t "$image" -t localhost/item-sync:latest . >&2
size=$(podman image inspect --format '{{.Size}}' "$image")
log "built $image ($((size / 1024 / 1024)) MiB)"
echo "$image"
