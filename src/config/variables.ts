/**
 * Every environment variable item-sync reads, with its default and meaning, in one declarative
 * list. It is the source of
 * - the configuration table of docs/reference.md (`bun scripts/gen-reference.ts` writes it;
 *   test/config/reference.test.ts fails when the two differ, when loadConfig reads a variable
 *   that is not listed here, when one listed here is not read, or when a default differs);
 * - the warning about unknown variables that look like ours (`SYNC_CRONN`, `ITEM_SYNC_PORT`);
 * - the list of secret variables, never echoed and always redacted.
 *
 * Adding a variable: one `read.*("NAME", default)` line in loadConfig (src/config/config.ts), one entry
 * here, then `bun scripts/gen-reference.ts`.
 */

export interface VariableSpec {
  name: string;
  /** As documented: the literal default, `required`, or `empty`. Checked against loadConfig. */
  default: string;
  meaning: string;
  /** A secret: never echoed in a message, redacted from every log line. */
  secret?: boolean;
  /** Section of the reference table. */
  group: "service" | "database" | "gitlab" | "webhooks" | "broker" | "auth" | "sync" | "tracing";
}

export const CONFIG_VARIABLES: readonly VariableSpec[] = [
  {
    group: "service",
    name: "HOST",
    default: "0.0.0.0",
    meaning: "address the HTTP server (serve, worker) listens on",
  },
  {
    group: "service",
    name: "PORT",
    default: "8080",
    meaning:
      "HTTP port of serve (API, dashboard, probes, metrics) and worker (probes, metrics); taken exclusively: a port in use exits 2",
  },
  {
    group: "service",
    name: "METRICS_PORT",
    default: "empty",
    meaning:
      "when set, `/metrics` and `/health/*` are also served on this port (serve and worker); must differ from `PORT`; the Helm chart's probes and scrapes use it and its Ingress never routes it",
  },
  {
    group: "service",
    name: "TRUSTED_PROXIES",
    default: "empty",
    meaning:
      "comma-separated addresses or CIDR ranges of reverse proxies in front of the API (the Ingress controller's pods, e.g. `10.0.0.0/8`): for a request from one of them, the client is the right-most `X-Forwarded-For` address that is not a trusted proxy. Used for refusal log lines and to share token introspection fairly between clients; empty: the peer address",
  },
  { group: "service", name: "LOG_LEVEL", default: "info", meaning: "`debug`, `info`, `warn` or `error`" },
  {
    group: "service",
    name: "INGEST_ENABLED",
    default: "true",
    meaning: "run the ingest workers inside `serve` (`false` when separate `worker` processes consume)",
  },
  {
    group: "service",
    name: "TRACE_URL_TEMPLATE",
    default: "empty",
    meaning:
      "the dashboard's link from a run to its trace in your tracing UI: an http(s) URL in which `{executionId}`, `{startMs}`/`{endMs}` (the run's time ± 1 min, Unix ms) and `{startUs}`/`{endUs}` (µs) are replaced, e.g. Jaeger `https://jaeger.example.org/search?service=item-sync&tags=%7B%22item_sync.execution.id%22%3A%22{executionId}%22%7D&start={startUs}&end={endUs}`; empty: no link",
  },
  {
    group: "database",
    name: "DATABASE_URL",
    default: "sqlite:./item-sync.db",
    secret: true,
    meaning:
      "`sqlite:PATH` (development; WAL mode, several processes may share the file) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`; Postgres may list several hosts for failover, libpq-style: `postgres://u:p@h1:5432,h2:5432/db?target_session_attrs=read-write`",
  },
  {
    group: "database",
    name: "DB_MIGRATE",
    default: "true",
    meaning:
      "apply pending migrations at `serve`/`worker` start (on Postgres under an advisory lock); `false` when a separate `item-sync migrate` does it",
  },
  {
    group: "database",
    name: "DATABASE_SCHEMA",
    default: "public",
    meaning:
      "Postgres schema holding every item-sync table and the migrations' bookkeeping (created if missing), so item-sync can share a database, e.g. the old `imrt` one, without touching its tables; ignored with SQLite",
  },
  {
    group: "database",
    name: "IMRT_SCHEMA",
    default: "public",
    meaning:
      "Postgres schema of the IMRT item tables the Item Search Service reads (`item`, `item_git`, `item_log`, `stim_link`, `item_keyword`, `item_form`, `item_attachment`, `item_content_update_need`, `item_assignment`, `validation_result`, `project_lock`): existing tables are used as they are (never dropped or altered; a column item-sync writes that is missing stops start-up, exit 2, naming table and column), missing ones are created by `migrate`; ignored with SQLite (the same tables beside item-sync's own)",
  },
  {
    group: "gitlab",
    name: "ITEM_VALIDATION_URL",
    default: "empty",
    meaning:
      "base URL of the Item Validation Service: when set, each head change is followed by `GET {url}/api/v1/validate/{item id}/{branch}` and the item's `validation_result` rows and four count columns are rewritten; empty: never called, those left as they are. https unless loopback (see `ALLOW_INSECURE_URLS`)",
  },
  {
    group: "gitlab",
    name: "GITLAB_URL",
    default: "required",
    meaning:
      "GitLab's base URL, e.g. `https://gitlab.example.org` (without `/api/v4`: the API path is added)",
  },
  {
    group: "gitlab",
    name: "GITLAB_TOKEN",
    default: "required",
    secret: true,
    meaning: "personal or group access token with the `api` scope (hooks are created with it)",
  },
  {
    group: "gitlab",
    name: "GITLAB_GROUP",
    default: "required",
    meaning: "numeric id or full path of the item group",
  },
  {
    group: "gitlab",
    name: "GITLAB_INCLUDE_SUBGROUPS",
    default: "false",
    meaning: "include projects of subgroups",
  },
  {
    group: "gitlab",
    name: "GITLAB_WITH_SHARED",
    default: "false",
    meaning:
      "include projects merely shared into the group (the parameter is always sent: GitLab's own default is true)",
  },
  {
    group: "gitlab",
    name: "GITLAB_IGNORE_PROJECTS",
    default: "empty",
    meaning:
      "comma-separated projects never synced, each a full path (`imrt/items/item-123`) or, without a `/`, a short path (`item-123`), case-insensitive (their items are deleted by the next complete scan)",
  },
  {
    group: "gitlab",
    name: "GITLAB_CONCURRENCY",
    default: "8",
    meaning:
      "GitLab requests in flight at most, per process; also how many messages a worker handles at once",
  },
  {
    group: "gitlab",
    name: "GITLAB_MAX_RPS",
    default: "0",
    meaning:
      "client-side cap on GitLab requests per second, per process; 0 = none (429s and `Retry-After` are honoured anyway)",
  },
  {
    group: "gitlab",
    name: "GITLAB_TIMEOUT_SECONDS",
    default: "30",
    meaning: "time limit of one GitLab request",
  },
  {
    group: "gitlab",
    name: "ALLOW_INSECURE_URLS",
    default: "false",
    meaning:
      "`GITLAB_URL`, `WEBHOOK_URL` and the `AUTH_*` URLs must be `https` unless their host is loopback (`localhost`, an IP literal `127.x.x.x` or `[::1]`) or this is `true`",
  },
  {
    group: "webhooks",
    name: "WEBHOOK_URL",
    default: "required",
    meaning:
      "the URL of this service's `/webhooks/gitlab` as GitLab reaches it; monitored projects' hooks point at it. `https` (GitLab sends `WEBHOOK_SECRET` to it with every delivery) unless loopback or `ALLOW_INSECURE_URLS=true`",
  },
  {
    group: "webhooks",
    name: "WEBHOOK_SECRET",
    default: "empty",
    secret: true,
    meaning:
      "token set on created hooks and required in `X-Gitlab-Token` on `/webhooks/gitlab`; at least 24 characters, required by `serve` and `worker` unless `WEBHOOK_ENABLED=false`",
  },
  {
    group: "webhooks",
    name: "WEBHOOK_ENABLED",
    default: "true",
    meaning: "`false`: no webhook receiver (`/webhooks/gitlab` answers 404) and no `WEBHOOK_SECRET` needed",
  },
  {
    group: "webhooks",
    name: "WEBHOOK_LEGACY_URLS",
    default: "empty",
    meaning:
      "comma-separated hook URLs of the replaced service: a project whose hook points at one of them has it edited in place to `WEBHOOK_URL` (+ secret, push events, SSL verification) by monitor-item, never a second hook added",
  },
  {
    group: "broker",
    name: "AMQP_URL",
    default: "amqp://guest:guest@localhost:5672",
    secret: true,
    meaning:
      "RabbitMQ (`amqp://` or `amqps://`); a comma-separated list of full URLs names the nodes of a cluster (`amqp://u:p@h1:5672,amqp://u:p@h2:5672`), tried in turn on connect and reconnect",
  },
  {
    group: "broker",
    name: "AMQP_QUEUE_TYPE",
    default: "quorum",
    meaning:
      "`quorum` (replicated; the broker counts deliveries and dead-letters a message after `AMQP_DELIVERY_LIMIT`, at-least-once) or `classic`; a queue that exists with another type stops start-up with exit 2 naming it and how to migrate (docs/cluster.md)",
  },
  {
    group: "broker",
    name: "AMQP_DELIVERY_LIMIT",
    default: "10",
    meaning: "deliveries of one message before it is dead-lettered",
  },
  {
    group: "broker",
    name: "AMQP_DEAD_LETTER_MAX_LENGTH",
    default: "100000",
    meaning:
      "messages each `.dead` queue holds at most (`x-max-length`); beyond, a dead letter is refused (`x-overflow: reject-publish`), counted in `item_sync_dead_letters_refused_total` (alert ItemSyncDeadLetterQueueFull) and left in its work queue, never dropped. A `.dead` queue an earlier release declared without the bound is used as it is, with a warning (docs/cluster.md)",
  },
  {
    group: "broker",
    name: "AMQP_EXCHANGE",
    default: "imrt.items",
    meaning: "durable topic exchange the messages go to",
  },
  {
    group: "broker",
    name: "AMQP_MONITOR_QUEUE",
    default: "item-monitor",
    meaning: "durable queue bound with `item.monitor`",
  },
  {
    group: "broker",
    name: "AMQP_UPDATE_QUEUE",
    default: "item-update",
    meaning: "durable queue bound with `item.update`",
  },
  {
    group: "broker",
    name: "AMQP_DELETE_QUEUE",
    default: "item-delete",
    meaning: "durable queue bound with `item.delete`",
  },
  {
    group: "broker",
    name: "AMQP_RECONNECT_TIMEOUT",
    default: "120",
    meaning:
      "seconds to wait for the broker: at start-up before giving up, and during a sync before the execution fails (restartable)",
  },
  {
    group: "auth",
    name: "API_TOKENS",
    default: "empty",
    secret: true,
    meaning:
      "comma-separated static bearer tokens, each `TOKEN` or `TOKEN:ROLE` with ROLE `read`, `operate` or `admin` (a bare token is `admin`); each token at least 16 characters of letters, digits and `-._~+/` (what a bearer header can carry), each one once, and not guessable (e.g. `openssl rand -hex 24`)",
  },
  {
    group: "auth",
    name: "AUTH_JWKS_URL",
    default: "empty",
    meaning: "accept JWT access tokens signed by the keys published here",
  },
  {
    group: "auth",
    name: "AUTH_ISSUER",
    default: "empty",
    meaning: "a JWT's `iss` must equal it; required with `AUTH_JWKS_URL`",
  },
  {
    group: "auth",
    name: "AUTH_AUDIENCE",
    default: "empty",
    meaning:
      "a JWT's `aud` must contain it; required with `AUTH_JWKS_URL`, and with `AUTH_INTROSPECTION_URL` (an introspected token's `aud` must contain it, or, when the answer has no `aud`, its `client_id` must be it)",
  },
  {
    group: "auth",
    name: "AUTH_INTROSPECTION_URL",
    default: "empty",
    meaning:
      "accept opaque tokens this RFC 7662 endpoint says are active and issued for `AUTH_AUDIENCE` (needs `AUTH_CLIENT_ID`, `AUTH_CLIENT_SECRET` and `AUTH_AUDIENCE`)",
  },
  {
    group: "auth",
    name: "AUTH_CLIENT_ID",
    default: "empty",
    meaning: "client id item-sync introspects tokens with",
  },
  {
    group: "auth",
    name: "AUTH_CLIENT_SECRET",
    default: "empty",
    secret: true,
    meaning: "its client secret",
  },
  {
    group: "auth",
    name: "AUTH_REQUIRED_SCOPE",
    default: "empty",
    meaning: "scope (in `scope` or `scp`) an OAuth2 token must carry, else `403`",
  },
  {
    group: "auth",
    name: "AUTH_OPERATE_SCOPE",
    default: "empty",
    meaning:
      "scope that gives an OAuth2 token role `operate`; unset: no OAuth2 token has it. An accepted OAuth2 token without a role scope has role `read`",
  },
  {
    group: "auth",
    name: "AUTH_ADMIN_SCOPE",
    default: "empty",
    meaning:
      "scope that gives an OAuth2 token role `admin`; unset: no OAuth2 token has it. An accepted OAuth2 token without a role scope has role `read`",
  },
  {
    group: "auth",
    name: "AUTH_CACHE_SECONDS",
    default: "60",
    meaning:
      "how long an *active* verdict on a token is cached, 0 to 300 seconds (never past the token's `exp`): a revoked token is refused at most this long after",
  },
  {
    group: "auth",
    name: "AUTH_UI_CLIENT_ID",
    default: "empty",
    meaning:
      "the dashboard's OAuth2 public client (authorization code + PKCE); with `AUTH_AUTHORIZE_URL`, both or neither",
  },
  {
    group: "auth",
    name: "AUTH_AUTHORIZE_URL",
    default: "empty",
    meaning: "the provider's authorization endpoint, for the dashboard's sign-in",
  },
  {
    group: "sync",
    name: "SYNC_CRON",
    default: "0 9 * * *",
    meaning: "schedule of syncs (cron, 5 or 6 fields; replicas share each slot); `off` disables it",
  },
  { group: "sync", name: "SYNC_CRON_TZ", default: "UTC", meaning: "its IANA time zone" },
  {
    group: "sync",
    name: "JOB_LEASE_SECONDS",
    default: "60",
    meaning:
      "a running execution whose heartbeat is older than this is dead: marked FAILED and resumed by the next launch",
  },
  {
    group: "sync",
    name: "SYNC_SKIP_LIMIT",
    default: "100",
    meaning: "projects whose hook check may fail after retries before the execution fails",
  },
  {
    group: "sync",
    name: "SYNC_DELETE_MAX_FRACTION",
    default: "0.1",
    meaning: "largest share of the items one sync may delete without `allowMassDelete`",
  },
  {
    group: "sync",
    name: "SYNC_DELETE_ENABLED",
    default: "true",
    meaning:
      "`false` skips the deletion pass (the replaced system's `deleteSyncDisabled`); the step context says so",
  },
  {
    group: "sync",
    name: "SYNC_MODE",
    default: "auto",
    meaning:
      "`auto`, `incremental` or `full` for launches that do not choose (the cron's included); `auto` runs `full` when no full sync COMPLETED within `SYNC_FULL_EVERY_HOURS`, else `incremental`",
  },
  {
    group: "sync",
    name: "SYNC_FULL_EVERY_HOURS",
    default: "168",
    meaning: "see `SYNC_MODE`; also how long a verified hook is trusted by incremental scans",
  },
  {
    group: "sync",
    name: "SYNC_ACTIVITY_MARGIN_MINUTES",
    default: "120",
    meaning:
      "incremental scans publish update-item for projects whose `last_activity_at` is at most this long before the start of the previous COMPLETED sync (GitLab updates it lazily, up to an hour late)",
  },
  {
    group: "tracing",
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    default: "empty",
    meaning:
      "base URL of an OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger or Tempo on port 4318, e.g. `http://otel-collector:4318`); spans go to its `/v1/traces`. Unset (and no `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): no tracing at all, no SDK loaded",
  },
  {
    group: "tracing",
    name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    default: "empty",
    meaning:
      "the full URL spans are sent to, used as it is (`http://tempo:4318/v1/traces`); wins over `OTEL_EXPORTER_OTLP_ENDPOINT`",
  },
  {
    group: "tracing",
    name: "OTEL_EXPORTER_OTLP_PROTOCOL",
    default: "http/protobuf",
    meaning: "`http/protobuf` or `http/json` (`grpc` is not built in: use the receiver's HTTP port, 4318)",
  },
  {
    group: "tracing",
    name: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    default: "empty",
    meaning: "the same for traces only; wins over `OTEL_EXPORTER_OTLP_PROTOCOL`",
  },
  {
    group: "tracing",
    name: "OTEL_EXPORTER_OTLP_HEADERS",
    default: "empty",
    secret: true,
    meaning:
      "headers sent with every export, `key=value,key2=value2`, values percent-encoded (`Authorization=Basic%20…`, `X-Scope-OrgID=tenant`); values of 8 characters or more are redacted from logs",
  },
  {
    group: "tracing",
    name: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    default: "empty",
    secret: true,
    meaning: "the same for traces only; added to (and winning over) `OTEL_EXPORTER_OTLP_HEADERS`",
  },
  {
    group: "tracing",
    name: "OTEL_SERVICE_NAME",
    default: "empty",
    meaning:
      "`service.name` of every span; empty: `service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else `item-sync`",
  },
  {
    group: "tracing",
    name: "OTEL_RESOURCE_ATTRIBUTES",
    default: "empty",
    meaning:
      "more resource attributes, `key=value,…` percent-encoded (`deployment.environment.name=prod,k8s.namespace.name=imrt`)",
  },
  {
    group: "tracing",
    name: "OTEL_TRACES_SAMPLER",
    default: "parentbased_always_on",
    meaning:
      "`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off` or `parentbased_traceidratio` (parent-based: a request carrying a `traceparent` keeps its caller's decision)",
  },
  {
    group: "tracing",
    name: "OTEL_TRACES_SAMPLER_ARG",
    default: "1",
    meaning: "the ratio of the `traceidratio` samplers, 0 to 1 (`0.01`: one trace in a hundred)",
  },
  {
    group: "tracing",
    name: "OTEL_SDK_DISABLED",
    default: "false",
    meaning: "`true`: no tracing even with an endpoint set",
  },
  {
    group: "tracing",
    name: "OTEL_BSP_SCHEDULE_DELAY",
    default: "5000",
    meaning: "milliseconds between two exports of the batch span processor",
  },
  {
    group: "tracing",
    name: "OTEL_BSP_EXPORT_TIMEOUT",
    default: "30000",
    meaning: "milliseconds one export may take",
  },
  {
    group: "tracing",
    name: "OTEL_BSP_MAX_QUEUE_SIZE",
    default: "2048",
    meaning:
      "spans waiting for export at most; beyond, new spans are dropped (a full sync at 100 % sampling makes thousands a second: raise it, or sample)",
  },
  {
    group: "tracing",
    name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    default: "512",
    meaning: "spans per export at most (not above `OTEL_BSP_MAX_QUEUE_SIZE`)",
  },
];

const BY_NAME = new Map(CONFIG_VARIABLES.map((v) => [v.name, v]));

export function variableSpec(name: string): VariableSpec | undefined {
  return BY_NAME.get(name);
}

/** Prefixes of our variables: an unknown variable with one of them is probably a typo. */
const OUR_PREFIXES = [
  "ITEM_SYNC",
  "GITLAB_",
  "AMQP_",
  "AUTH_",
  "SYNC_",
  "JOB_",
  "WEBHOOK_",
  "DB_",
  "DATABASE_",
  "INGEST_",
  "API_TOKEN",
  "METRICS_",
];

/**
 * Warnings for variables in `env` that look like ours but are not read: a misspelling
 * (`SYNC_CRONN` → did you mean SYNC_CRON?) or a prefix of ours with an unknown name.
 */
export function unknownVariableWarnings(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (BY_NAME.has(name) || env[name] === undefined || isServiceLink(name, env[name])) continue;
    const near = nearest(name);
    if (/^PG[A-Z_]+$/.test(name)) {
      out.push(
        `${name} is set: item-sync ignores libpq's PG* variables (ignored); DATABASE_URL alone says which Postgres, user, password and database`,
      );
    } else if (near) {
      out.push(`${name} is not a variable item-sync reads: did you mean ${near}? (ignored)`);
    } else if (OUR_PREFIXES.some((p) => name.startsWith(p))) {
      out.push(`${name} is not a variable item-sync reads (ignored); see docs/reference.md for the list`);
    }
  }
  return out;
}

/** Variables whose misspelling stops start-up when they themselves are unset: without them the
 *  service would run against the wrong database, broker or GitLab (or an SQLite file of its own). */
function isLoadBearing(name: string): boolean {
  return name === "DATABASE_URL" || name === "AMQP_URL" || name.startsWith("GITLAB_");
}

/**
 * Problems (exit 2) for variables in `env` one edit away (Damerau-Levenshtein: one letter added,
 * removed, changed, or two swapped) from DATABASE_URL, AMQP_URL or a GITLAB_ variable that is
 * itself unset: `DATABSE_URL` would otherwise leave DATABASE_URL at its default.
 */
export function misspeltVariableProblems(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (BY_NAME.has(name) || env[name] === undefined || isServiceLink(name, env[name])) continue;
    for (const known of BY_NAME.keys()) {
      if (!isLoadBearing(known) || (env[known] ?? "") !== "") continue;
      if (editDistance(name, known) === 1) {
        out.push(
          `${name} is set but ${known} is not: item-sync reads ${known} (is ${name} a misspelling of it?); rename it`,
        );
        break;
      }
    }
  }
  return out;
}

/**
 * Kubernetes injects `{SERVICE}_PORT=tcp://…`, `{SERVICE}_SERVICE_HOST`, `{SERVICE}_PORT_8080_TCP…`
 * for every Service of the namespace — `ITEM_SYNC_PORT` for ours: not a typo of the operator.
 */
function isServiceLink(name: string, value: string): boolean {
  return (
    /_SERVICE_(HOST|PORT)(_|$)/.test(name) ||
    /_PORT_\d+_(TCP|UDP|SCTP)(_|$)/.test(name) ||
    (name.endsWith("_PORT") && /^(tcp|udp|sctp):\/\//.test(value))
  );
}

/** The known variable within edit distance 2 of `name` (and not too short to judge), if any. */
function nearest(name: string): string | undefined {
  if (name.length < 6) return undefined;
  let best: { name: string; d: number } | undefined;
  for (const known of BY_NAME.keys()) {
    const d = editDistance(name, known);
    if (d <= 2 && (!best || d < best.d)) best = { name: known, d };
  }
  return best?.name;
}

/** Optimal string alignment distance: Levenshtein plus the swap of two neighbouring letters. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}
