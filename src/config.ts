/**
 * loadConfig(env) is the only reader of the environment. It parses and validates every variable
 * of the contract in one pass and throws one ConfigError listing every problem; secret values
 * never appear in a message.
 */
import { Cron } from "croner";
import { ConfigError } from "./lib/errors.ts";
import type { LogLevel } from "./lib/log.ts";
import { SECOND } from "./lib/time.ts";

export type ConfigInput = Record<string, string | undefined>;

export interface GitlabConfig {
  url: string; // base url without trailing slash, e.g. https://gitlab.example.org
  token: string;
  group: string; // numeric id or full path
  includeSubgroups: boolean;
  withShared: boolean;
  ignoreProjects: string[]; // full paths
  concurrency: number;
  maxRps: number; // 0 = no client-side cap
  timeoutMs: number;
  webhookUrl: string;
  webhookSecret: string; // "" = none
}

export const QUEUE_TYPES = ["quorum", "classic"] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

export interface AmqpConfig {
  /** AMQP_URL as given (one URL, or a comma-separated list of a cluster's nodes) */
  url: string;
  /** the nodes, in the order they are tried: same user, password, vhost and scheme for each */
  urls: string[];
  /** `quorum` (replicated, broker-counted deliveries) or `classic` */
  queueType: QueueType;
  /** deliveries of one message before it is dead-lettered */
  deliveryLimit: number;
  exchange: string;
  monitorQueue: string;
  updateQueue: string;
  deleteQueue: string;
  reconnectTimeoutMs: number;
}

export interface AuthConfig {
  apiTokens: string[];
  jwksUrl: string;
  issuer: string;
  audience: string;
  introspectionUrl: string;
  clientId: string;
  clientSecret: string;
  requiredScope: string;
  cacheSeconds: number;
  /** The dashboard's OAuth2 public client (authorization code + PKCE); unset = token field only. */
  uiClientId?: string;
  authorizeUrl?: string;
}

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  gitlab: GitlabConfig;
  amqp: AmqpConfig;
  auth: AuthConfig;
  syncCron: string | null; // null = off
  syncCronTz: string;
  jobLeaseMs: number;
  syncSkipLimit: number;
  syncDeleteMaxFraction: number;
  ingestEnabled: boolean;
  dbMigrate: boolean;
  logLevel: LogLevel;
}

/** Which parts of the configuration a command needs; the rest may be missing. */
export interface ConfigNeeds {
  gitlab: boolean;
  auth: boolean;
}

export const NEEDS_ALL: ConfigNeeds = { gitlab: true, auth: true };

/** Names of variables whose values are secrets: never echoed, always redacted. */
export const SECRET_VARIABLES = [
  "GITLAB_TOKEN",
  "WEBHOOK_SECRET",
  "API_TOKENS",
  "AUTH_CLIENT_SECRET",
  "DATABASE_URL",
  "AMQP_URL",
] as const;

export function loadConfig(env: ConfigInput, needs: ConfigNeeds = NEEDS_ALL): Config {
  const problems: string[] = [];
  const read = createReader(env, problems);

  const gitlabUrl = read.url("GITLAB_URL", needs.gitlab ? undefined : "http://gitlab.invalid", [
    "http:",
    "https:",
  ]);
  const config: Config = {
    host: read.string("HOST", "0.0.0.0"),
    port: read.int("PORT", 8080, 0, 65535),
    databaseUrl: read.databaseUrl("DATABASE_URL", "sqlite:./item-sync.db"),
    gitlab: {
      url: gitlabUrl.replace(/\/+$/, ""),
      token: read.string("GITLAB_TOKEN", needs.gitlab ? undefined : ""),
      group: read.string("GITLAB_GROUP", needs.gitlab ? undefined : ""),
      includeSubgroups: read.bool("GITLAB_INCLUDE_SUBGROUPS", false),
      withShared: read.bool("GITLAB_WITH_SHARED", false),
      ignoreProjects: read.list("GITLAB_IGNORE_PROJECTS"),
      concurrency: read.int("GITLAB_CONCURRENCY", 8, 1, 1000),
      maxRps: read.number("GITLAB_MAX_RPS", 0, 0, 100_000),
      timeoutMs: read.number("GITLAB_TIMEOUT_SECONDS", 30, 0.001, 3600) * SECOND,
      webhookUrl: read.url("WEBHOOK_URL", needs.gitlab ? undefined : "", ["http:", "https:"]),
      webhookSecret: read.string("WEBHOOK_SECRET", ""),
    },
    amqp: {
      ...read.amqpUrls("AMQP_URL", "amqp://guest:guest@localhost:5672"),
      queueType: read.oneOf("AMQP_QUEUE_TYPE", "quorum", QUEUE_TYPES),
      deliveryLimit: read.int("AMQP_DELIVERY_LIMIT", 10, 1, 1_000_000),
      exchange: read.name("AMQP_EXCHANGE", "imrt.items"),
      monitorQueue: read.name("AMQP_MONITOR_QUEUE", "item-monitor"),
      updateQueue: read.name("AMQP_UPDATE_QUEUE", "item-update"),
      deleteQueue: read.name("AMQP_DELETE_QUEUE", "item-delete"),
      reconnectTimeoutMs: read.number("AMQP_RECONNECT_TIMEOUT", 120, 0, 86_400) * SECOND,
    },
    auth: {
      apiTokens: read.list("API_TOKENS"),
      jwksUrl: read.url("AUTH_JWKS_URL", "", ["http:", "https:"]),
      issuer: read.string("AUTH_ISSUER", ""),
      audience: read.string("AUTH_AUDIENCE", ""),
      introspectionUrl: read.url("AUTH_INTROSPECTION_URL", "", ["http:", "https:"]),
      clientId: read.string("AUTH_CLIENT_ID", ""),
      clientSecret: read.string("AUTH_CLIENT_SECRET", ""),
      requiredScope: read.string("AUTH_REQUIRED_SCOPE", ""),
      cacheSeconds: read.int("AUTH_CACHE_SECONDS", 60, 0, 86_400),
      uiClientId: read.string("AUTH_UI_CLIENT_ID", ""),
      authorizeUrl: read.url("AUTH_AUTHORIZE_URL", "", ["http:", "https:"]),
    },
    syncCron: read.cron("SYNC_CRON", "0 9 * * *"),
    syncCronTz: read.timeZone("SYNC_CRON_TZ", "UTC"),
    jobLeaseMs: read.number("JOB_LEASE_SECONDS", 60, 1, 86_400) * SECOND,
    syncSkipLimit: read.int("SYNC_SKIP_LIMIT", 100, 0, 1_000_000_000),
    syncDeleteMaxFraction: read.number("SYNC_DELETE_MAX_FRACTION", 0.1, 0, 1),
    ingestEnabled: read.bool("INGEST_ENABLED", true),
    dbMigrate: read.bool("DB_MIGRATE", true),
    logLevel: read.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error"] as const),
  };

  if (needs.auth) {
    const a = config.auth;
    const hasProvider = a.jwksUrl !== "" || a.introspectionUrl !== "";
    if (a.apiTokens.length === 0 && !hasProvider) {
      problems.push(
        "API_TOKENS: serve needs at least one way to accept bearer tokens (API_TOKENS or AUTH_*)",
      );
    }
    if (a.apiTokens.some((t) => t.length < 16)) {
      problems.push("API_TOKENS: every token must be at least 16 characters long");
    }
    if ((a.uiClientId === "") !== (a.authorizeUrl === "")) {
      problems.push("AUTH_UI_CLIENT_ID, AUTH_AUTHORIZE_URL: the dashboard's sign-in needs both or neither");
    }
    if (a.introspectionUrl !== "" && (a.clientId === "" || a.clientSecret === "")) {
      problems.push("AUTH_INTROSPECTION_URL: needs AUTH_CLIENT_ID and AUTH_CLIENT_SECRET");
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function createReader(env: ConfigInput, problems: string[]) {
  const isSecret = (name: string) => (SECRET_VARIABLES as readonly string[]).includes(name);
  const shown = (name: string, raw: string) => (isSecret(name) ? "(value hidden)" : JSON.stringify(raw));

  /** The trimmed value, the default when unset/empty, or a problem when required and missing. */
  function raw(name: string, fallback: string | undefined): string | undefined {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "") return value;
    if (fallback === undefined) problems.push(`${name}: required but not set`);
    return fallback;
  }

  return {
    string(name: string, fallback?: string): string {
      return raw(name, fallback) ?? "";
    },
    name(name: string, fallback: string): string {
      const v = raw(name, fallback) ?? fallback;
      if (!/^[A-Za-z0-9._:-]{1,255}$/.test(v)) {
        problems.push(`${name}: ${shown(name, v)} must be 1-255 letters, digits, '.', '_', ':' or '-'`);
      }
      return v;
    },
    list(name: string): string[] {
      return (raw(name, "") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    },
    bool(name: string, fallback: boolean): boolean {
      const v = raw(name, String(fallback))?.toLowerCase();
      if (v === "true" || v === "1" || v === "yes") return true;
      if (v === "false" || v === "0" || v === "no") return false;
      problems.push(`${name}: ${shown(name, v ?? "")} is not a boolean (use true or false)`);
      return fallback;
    },
    number(name: string, fallback: number, min: number, max: number): number {
      const v = raw(name, String(fallback)) ?? String(fallback);
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) {
        problems.push(`${name}: ${shown(name, v)} must be a number from ${min} to ${max}`);
        return fallback;
      }
      return n;
    },
    int(name: string, fallback: number, min: number, max: number): number {
      const v = raw(name, String(fallback)) ?? String(fallback);
      const n = Number(v);
      if (!/^-?\d+$/.test(v) || n < min || n > max) {
        problems.push(`${name}: ${shown(name, v)} must be a whole number from ${min} to ${max}`);
        return fallback;
      }
      return n;
    },
    oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
      const v = raw(name, fallback) ?? fallback;
      if (!(allowed as readonly string[]).includes(v)) {
        problems.push(`${name}: ${shown(name, v)} must be one of ${allowed.join(", ")}`);
        return fallback;
      }
      return v as T;
    },
    url(name: string, fallback: string | undefined, protocols: string[]): string {
      const v = raw(name, fallback);
      if (v === undefined || v === "") return v ?? "";
      try {
        const u = new URL(v);
        if (!protocols.includes(u.protocol)) {
          problems.push(`${name}: ${shown(name, v)} must be a ${protocols.join(" or ")} URL`);
        }
      } catch {
        problems.push(`${name}: ${shown(name, v)} is not a valid URL`);
      }
      return v;
    },
    databaseUrl(name: string, fallback: string): string {
      const v = raw(name, fallback) ?? fallback;
      if (v.startsWith("sqlite:")) {
        if (v.slice("sqlite:".length) === "")
          problems.push(`${name}: sqlite: needs a file path (sqlite:./item-sync.db)`);
        return v;
      }
      if (/^postgres(ql)?:\/\//.test(v)) {
        try {
          parsePostgresUrl(v);
          return v;
        } catch {
          // fall through to the problem below
        }
      }
      problems.push(
        `${name}: must be sqlite:PATH or postgres://user:password@host:port/database (several hosts for failover: postgres://user:password@host1:5432,host2:5432/database?target_session_attrs=read-write)`,
      );
      return v;
    },
    /** AMQP_URL: one URL or a comma-separated list of the nodes of one cluster. */
    amqpUrls(name: string, fallback: string): { url: string; urls: string[] } {
      const v = raw(name, fallback) ?? fallback;
      const urls = v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      const parsed: URL[] = [];
      for (const [i, u] of urls.entries()) {
        const where = urls.length > 1 ? ` (node ${i + 1} of the list)` : "";
        try {
          const url = new URL(u);
          if (url.protocol !== "amqp:" && url.protocol !== "amqps:") {
            problems.push(`${name}: every URL must be an amqp: or amqps: URL${where}`);
          } else if (url.hostname.includes(":")) {
            problems.push(`${name}: IPv6 literal hosts are not supported; use a host name${where}`);
          } else parsed.push(url);
        } catch {
          problems.push(`${name}: (value hidden) is not a valid URL${where}`);
        }
      }
      if (urls.length === 0) problems.push(`${name}: no URL given`);
      const first = parsed[0];
      const key = (u: URL) => `${u.protocol}|${u.username}|${u.password}|${u.pathname}|${u.search}`;
      if (first && parsed.some((u) => key(u) !== key(first))) {
        problems.push(
          `${name}: the nodes of a cluster must share the scheme, user, password, vhost and parameters; only host and port may differ`,
        );
      }
      return { url: v, urls };
    },
    cron(name: string, fallback: string): string | null {
      const v = raw(name, fallback) ?? fallback;
      if (v.toLowerCase() === "off") return null;
      const fields = v.split(/\s+/);
      if (fields.length < 5 || fields.length > 6) {
        problems.push(`${name}: ${shown(name, v)} must be a cron pattern of 5 or 6 fields, or off`);
        return v;
      }
      try {
        // the scheduler's own parser: a pattern that passes here is one croner accepts at start
        new Cron(v, { paused: true }).stop();
      } catch (thrown) {
        const reason = thrown instanceof Error ? thrown.message : String(thrown);
        problems.push(`${name}: ${shown(name, v)} is not a valid cron pattern (${reason})`);
      }
      return v;
    },
    timeZone(name: string, fallback: string): string {
      const v = raw(name, fallback) ?? fallback;
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: v });
      } catch {
        problems.push(`${name}: ${shown(name, v)} is not a known IANA time zone`);
      }
      return v;
    },
  };
}

/** Every secret value in the configuration, for log redaction. */
export function secretValues(config: Config): string[] {
  const out = [
    config.gitlab.token,
    config.gitlab.webhookSecret,
    config.auth.clientSecret,
    ...config.auth.apiTokens,
  ];
  for (const url of [config.databaseUrl, ...config.amqp.urls]) {
    try {
      const u = url.startsWith("postgres") ? parsePostgresUrl(url).url : new URL(url);
      if (u.password) out.push(decodeURIComponent(u.password));
    } catch {
      // not a URL with credentials
    }
  }
  return out.filter((s) => s !== "");
}

/**
 * A libpq-style Postgres URL, which may list several hosts (`h1:5432,h2:5432`) — something the
 * WHATWG URL parser refuses — as the URL of its first host plus the list of `host:port`s.
 */
export function parsePostgresUrl(value: string): { url: URL; hosts: string[] } {
  const m = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/.exec(value);
  if (!m) throw new Error("not a postgres URL");
  const [, scheme, auth, hostList = "", rest = ""] = m;
  const hosts = hostList.split(",").filter((h) => h !== "");
  if (hosts.length === 0 && hostList !== "") throw new Error("empty host list");
  const url = new URL(`${scheme}${auth !== undefined ? `${auth}@` : ""}${hosts[0] ?? ""}${rest}`);
  for (const h of hosts.slice(1)) new URL(`${scheme}${h}`); // each host:port must parse
  return { url, hosts };
}
