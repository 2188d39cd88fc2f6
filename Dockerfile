# syntax=docker/dockerfile:1
#
# item-sync image: one compiled Bun executable on a small glibc runtime.
#
#   docker build -t item-sync .          (or `npm run image`: podman, works without a registry)
#   docker run --rm -p 8080:8080 --env-file item-sync.env item-sync            # serve (default)
#   docker run --rm --env-file item-sync.env item-sync worker                  # ingest workers only
#   docker run --rm --env-file item-sync.env --no-healthcheck item-sync migrate
#
# The HEALTHCHECK runs `item-sync health`, which probes GET /health/live of serve or worker on
# 127.0.0.1:$PORT: run `migrate`, `sync` and `jobs` with --no-healthcheck (Kubernetes ignores
# HEALTHCHECK; the Helm chart defines its own probes). The runtime holds the binary and CA
# certificates, nothing else of ours (no curl).
#
# BUN_IMAGE and RUNTIME_IMAGE name the two base images; `npm run image` passes locally made
# equivalents where no image registry is reachable.

ARG BUN_VERSION=1.4.4
ARG BUN_IMAGE=oven/bun:${BUN_VERSION}
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- builder: install the locked dependencies and compile dist/item-sync -----------------------
FROM ${BUN_IMAGE} AS builder
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --ignore-scripts
COPY . .
RUN bun run build && ./dist/item-sync --version

# ---- runtime ------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 item-sync \
  && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin item-sync \
  && mkdir -p /data && chown 10001:10001 /data

COPY --from=builder /src/dist/item-sync /app/item-sync

# Production uses Postgres (DATABASE_URL=postgres://…). The binary's default is a SQLite file in
# the working directory; /data is the one writable folder of the image for that case
# (mount a volume there and set DATABASE_URL=sqlite:/data/item-sync.db).
WORKDIR /data
ENV PORT=8080
# A numeric user, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/app/item-sync", "health"]

# Graceful shutdown on SIGTERM finishes within 25 s: give `docker stop` more (-t 40).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/item-sync"]
CMD ["serve"]
