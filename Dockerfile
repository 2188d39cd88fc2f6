# syntax=docker/dockerfile:1
#
# item-sync image: one compiled Bun executable on a small glibc runtime.
#
#   docker build -t item-sync .
#   docker run --rm -p 8080:8080 --env-file item-sync.env item-sync            # serve (default)
#   docker run --rm --env-file item-sync.env --no-healthcheck item-sync worker  # ingest workers only
#   docker run --rm --env-file item-sync.env --no-healthcheck item-sync migrate
#
# The HEALTHCHECK probes GET /health/live, which only `serve` answers: run `worker`, `migrate`,
# `sync` and `jobs` with --no-healthcheck (Kubernetes ignores HEALTHCHECK; the Helm chart defines
# its own probes). The runtime is debian-slim rather than distroless because a HEALTHCHECK needs a
# client to run (the binary has no health subcommand): it holds the binary, CA certificates and
# curl, nothing else of ours.

ARG BUN_VERSION=1.4.4

# ---- builder: install the locked dependencies and compile dist/item-sync -----------------------
FROM oven/bun:${BUN_VERSION} AS builder
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --ignore-scripts
COPY . .
RUN bun run build && ./dist/item-sync --version

# ---- runtime ------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates curl \
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
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT:-8080}/health/live" || exit 1

# Graceful shutdown on SIGTERM finishes within 25 s: give `docker stop` more (-t 40).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/item-sync"]
CMD ["serve"]
