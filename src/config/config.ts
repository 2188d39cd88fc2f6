/**
 * loadConfig(env) is the only reader of the environment. It parses and validates every variable
 * of the contract in one pass and throws one ConfigError listing every problem; secret values
 * never appear in a message.
 */
import { isIP } from "node:net";
import { ConfigError } from "../lib/errors.ts";
import type { LogLevel } from "../lib/log.ts";
import { isRole, type Role } from "../lib/roles.ts";
import { HOUR, MINUTE, SECOND } from "../lib/time.ts";
import { traceUrlProblem } from "../lib/trace-url.ts";
import { MODE_CHOICES, type SyncModeChoice } from "./modes.ts";
import {
  type ConfigInput,
  type ConfigReader,
  createReader,
  parsePostgresUrl,
  type ReadTrace,
} from "./reader.ts";
import { readTracingConfig, type TracingConfig } from "./tracing.ts";
import { CONFIG_VARIABLES, misspeltVariableProblems } from "./variables.ts";

export { type ConfigInput, type ConfigReader, parsePostgresUrl, type ReadTrace };

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
  webhookSecret: string; // "" = none (only with WEBHOOK_ENABLED=false, or outside serve)
  /** Hook urls of the replaced service: such a hook is edited in place to ours (none when unset). */
  webhookLegacyUrls?: string[];
  /** false: no webhook receiver (/webhooks/gitlab answers 404); unset = true. */
  webhookEnabled?: boolean;
}

/** One of API_TOKENS: `TOKEN` (role admin) or `TOKEN:ROLE`. */
export interface StaticToken {
  token: string;
  role: Role;
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
  /** messages a `.dead` queue holds at most; beyond, dead letters are refused (default 100,000) */
  deadLetterMaxLength?: number;
  exchange: string;
  monitorQueue: string;
  updateQueue: string;
  deleteQueue: string;
  reconnectTimeoutMs: number;
}

export interface AuthConfig {
  apiTokens: StaticToken[];
  jwksUrl: string;
  issuer: string;
  audience: string;
  introspectionUrl: string;
  clientId: string;
  clientSecret: string;
  requiredScope: string;
  /** Scopes giving an OAuth2 token role operate / admin; "" = no token has it through a scope (fail closed). */
  operateScope: string;
  adminScope: string;
  cacheSeconds: number;
  /** The dashboard's OAuth2 public client (authorization code + PKCE); unset = token field only. */
  uiClientId?: string;
  authorizeUrl?: string;
}

export interface Config {
  host: string;
  port: number;
  /** A second port serving only /metrics and /health/* (METRICS_PORT); null = none. */
  metricsPort: number | null;
  databaseUrl: string;
  /** Postgres schema holding every item-sync table (ignored for SQLite). */
  databaseSchema: string;
  /** Postgres schema of the IMRT item tables the Item Search Service reads (ignored for SQLite). */
  imrtSchema: string;
  /** The Item Validation Service's base URL; "" = never called. */
  itemValidationUrl: string;
  gitlab: GitlabConfig;
  amqp: AmqpConfig;
  auth: AuthConfig;
  syncCron: string | null; // null = off
  syncCronTz: string;
  jobLeaseMs: number;
  syncSkipLimit: number;
  syncDeleteMaxFraction: number;
  /** false: the deletion pass is skipped (the replaced system's deleteSyncDisabled). */
  syncDeleteEnabled: boolean;
  /** Scan mode of launches that do not choose one (the cron's included). */
  syncMode: SyncModeChoice;
  /** `auto` runs full when no full sync COMPLETED within this; also how long a verified hook is trusted. */
  syncFullEveryMs: number;
  /** Incremental scans update projects active since the previous COMPLETED sync's start minus this. */
  syncActivityMarginMs: number;
  ingestEnabled: boolean;
  dbMigrate: boolean;
  logLevel: LogLevel;
  /** ALLOW_INSECURE_URLS: plain-http GITLAB_URL and AUTH_* URLs to hosts other than loopback. */
  allowInsecureUrls: boolean;
  /** TRACE_URL_TEMPLATE: the dashboard's link from a run to its trace; "" = no link. */
  traceUrlTemplate: string;
  /** TRUSTED_PROXIES: addresses or CIDR ranges whose X-Forwarded-For names the client. */
  trustedProxies: string[];
  /** OpenTelemetry tracing (OTEL_*); null when no endpoint is set: no SDK, no cost. */
  tracing: TracingConfig | null;
}

/** Which parts of the configuration a command needs; the rest may be missing. */
export interface ConfigNeeds {
  gitlab: boolean;
  auth: boolean;
  /** Receives webhooks (serve) or creates the hooks that carry the secret (worker). */
  webhook?: boolean;
}

export const NEEDS_ALL: ConfigNeeds = { gitlab: true, auth: true, webhook: true };

/** Names of variables whose values are secrets: never echoed, always redacted. */
export const SECRET_VARIABLES: readonly string[] = CONFIG_VARIABLES.filter((v) => v.secret).map(
  (v) => v.name,
);

export function loadConfig(env: ConfigInput, needs: ConfigNeeds = NEEDS_ALL, trace?: ReadTrace): Config {
  const problems: string[] = [];
  const config = readConfig(createReader(env, problems, trace), needs, problems);
  problems.push(
    ...combinationProblems(config),
    ...secretProblems(config, needs),
    ...outboundProblems(config, needs),
    ...(needs.auth ? authProblems(config.auth) : []),
    ...misspeltVariableProblems(env),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Every variable, read with its default; each value's own problems go to `problems`. */
function readConfig(read: ConfigReader, needs: ConfigNeeds, problems: string[]): Config {
  const gitlabUrl = read.url("GITLAB_URL", needs.gitlab ? undefined : "http://gitlab.invalid", [
    "http:",
    "https:",
  ]);
  const apiSuffix = /\/api\/v4\/*$/i;
  if (apiSuffix.test(gitlabUrl)) {
    problems.push(
      `GITLAB_URL: ${JSON.stringify(gitlabUrl)} ends with /api/v4; give GitLab's base URL, ${JSON.stringify(gitlabUrl.replace(apiSuffix, ""))}: item-sync adds /api/v4 itself`,
    );
  }
  return {
    host: read.string("HOST", "0.0.0.0"),
    port: read.int("PORT", 8080, 0, 65535),
    metricsPort: read.string("METRICS_PORT", "") === "" ? null : read.int("METRICS_PORT", 0, 1, 65535),
    databaseUrl: read.databaseUrl("DATABASE_URL", "sqlite:./item-sync.db"),
    databaseSchema: read.schema("DATABASE_SCHEMA", "public"),
    imrtSchema: read.schema("IMRT_SCHEMA", "public"),
    itemValidationUrl: read.url("ITEM_VALIDATION_URL", "", ["http:", "https:"]).replace(/\/+$/, ""),
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
      webhookLegacyUrls: read.urlList("WEBHOOK_LEGACY_URLS", ["http:", "https:"]),
      webhookEnabled: read.bool("WEBHOOK_ENABLED", true),
    },
    amqp: {
      ...read.amqpUrls("AMQP_URL", "amqp://guest:guest@localhost:5672"),
      queueType: read.oneOf("AMQP_QUEUE_TYPE", "quorum", QUEUE_TYPES),
      deliveryLimit: read.int("AMQP_DELIVERY_LIMIT", 10, 1, 1_000_000),
      deadLetterMaxLength: read.int("AMQP_DEAD_LETTER_MAX_LENGTH", 100_000, 1, 100_000_000),
      exchange: read.name("AMQP_EXCHANGE", "imrt.items"),
      monitorQueue: read.name("AMQP_MONITOR_QUEUE", "item-monitor"),
      updateQueue: read.name("AMQP_UPDATE_QUEUE", "item-update"),
      deleteQueue: read.name("AMQP_DELETE_QUEUE", "item-delete"),
      reconnectTimeoutMs: read.number("AMQP_RECONNECT_TIMEOUT", 120, 0, 86_400) * SECOND,
    },
    auth: {
      apiTokens: read.list("API_TOKENS").map(parseStaticToken),
      jwksUrl: read.url("AUTH_JWKS_URL", "", ["http:", "https:"]),
      issuer: read.string("AUTH_ISSUER", ""),
      audience: read.string("AUTH_AUDIENCE", ""),
      introspectionUrl: read.url("AUTH_INTROSPECTION_URL", "", ["http:", "https:"]),
      clientId: read.string("AUTH_CLIENT_ID", ""),
      clientSecret: read.string("AUTH_CLIENT_SECRET", ""),
      requiredScope: read.string("AUTH_REQUIRED_SCOPE", ""),
      operateScope: read.string("AUTH_OPERATE_SCOPE", ""),
      adminScope: read.string("AUTH_ADMIN_SCOPE", ""),
      cacheSeconds: read.int("AUTH_CACHE_SECONDS", 60, 0, 300),
      uiClientId: read.string("AUTH_UI_CLIENT_ID", ""),
      authorizeUrl: read.url("AUTH_AUTHORIZE_URL", "", ["http:", "https:"]),
    },
    syncCron: read.cron("SYNC_CRON", "0 9 * * *"),
    syncCronTz: read.timeZone("SYNC_CRON_TZ", "UTC"),
    jobLeaseMs: read.number("JOB_LEASE_SECONDS", 60, 1, 86_400) * SECOND,
    syncSkipLimit: read.int("SYNC_SKIP_LIMIT", 100, 0, 1_000_000_000),
    syncDeleteMaxFraction: read.number("SYNC_DELETE_MAX_FRACTION", 0.1, 0, 1),
    syncDeleteEnabled: read.bool("SYNC_DELETE_ENABLED", true),
    syncMode: read.oneOf("SYNC_MODE", "auto", MODE_CHOICES),
    syncFullEveryMs: read.number("SYNC_FULL_EVERY_HOURS", 168, 0, 100_000) * HOUR,
    syncActivityMarginMs: read.number("SYNC_ACTIVITY_MARGIN_MINUTES", 120, 0, 1_000_000) * MINUTE,
    ingestEnabled: read.bool("INGEST_ENABLED", true),
    dbMigrate: read.bool("DB_MIGRATE", true),
    logLevel: read.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error"] as const),
    allowInsecureUrls: read.bool("ALLOW_INSECURE_URLS", false),
    traceUrlTemplate: read.string("TRACE_URL_TEMPLATE", ""),
    trustedProxies: read.addressList("TRUSTED_PROXIES"),
    tracing: readTracingConfig(read, problems),
  };
}

/** Values that are fine alone but not together. */
function combinationProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.metricsPort !== null && config.metricsPort === config.port) {
    problems.push("METRICS_PORT: must differ from PORT");
  }
  const traceUrl = traceUrlProblem(config.traceUrlTemplate);
  if (traceUrl) problems.push(`TRACE_URL_TEMPLATE: ${traceUrl}`);
  return problems;
}

/** Each secret has a floor, so redaction can cover secrets of any length without mangling logs. */
function secretProblems(config: Config, needs: ConfigNeeds): string[] {
  const problems: string[] = [];
  const g = config.gitlab;
  if (g.token !== "" && g.token.length < MIN_SECRET_LENGTH.GITLAB_TOKEN) {
    problems.push(`GITLAB_TOKEN: must be at least ${MIN_SECRET_LENGTH.GITLAB_TOKEN} characters long`);
  }
  if (g.webhookSecret !== "" && g.webhookSecret.length < MIN_SECRET_LENGTH.WEBHOOK_SECRET) {
    problems.push(
      `WEBHOOK_SECRET: must be at least ${MIN_SECRET_LENGTH.WEBHOOK_SECRET} characters long (e.g. openssl rand -hex 24)`,
    );
  }
  if ((needs.webhook ?? needs.auth) && g.webhookEnabled !== false && g.webhookSecret === "") {
    problems.push(
      "WEBHOOK_SECRET: required (at least 24 characters) to receive GitLab webhooks; set WEBHOOK_ENABLED=false to run without the receiver",
    );
  }
  for (const [name, value] of [
    ["DATABASE_URL", config.databaseUrl],
    ["AMQP_URL", config.amqp.url],
  ] as const) {
    if (urlPasswords(value).some((p) => p.length < MIN_SECRET_LENGTH.URL_PASSWORD)) {
      problems.push(
        `${name}: a password in it must be at least ${MIN_SECRET_LENGTH.URL_PASSWORD} characters long`,
      );
    }
  }
  const cs = config.auth.clientSecret;
  if (cs !== "" && cs.length < MIN_SECRET_LENGTH.AUTH_CLIENT_SECRET) {
    problems.push(
      `AUTH_CLIENT_SECRET: must be at least ${MIN_SECRET_LENGTH.AUTH_CLIENT_SECRET} characters long`,
    );
  }
  return problems;
}

/** Outbound URLs are https unless their host is loopback (or ALLOW_INSECURE_URLS=true). */
function outboundProblems(config: Config, needs: ConfigNeeds): string[] {
  const problems: string[] = [];
  const outbound: [string, string][] = [];
  if (needs.gitlab) {
    outbound.push(
      ["GITLAB_URL", config.gitlab.url],
      ["WEBHOOK_URL", config.gitlab.webhookUrl],
      ["ITEM_VALIDATION_URL", config.itemValidationUrl],
    );
  }
  if (needs.auth) {
    outbound.push(
      ["AUTH_JWKS_URL", config.auth.jwksUrl],
      ["AUTH_INTROSPECTION_URL", config.auth.introspectionUrl],
      ["AUTH_AUTHORIZE_URL", config.auth.authorizeUrl ?? ""],
    );
  }
  for (const [name, url] of outbound) {
    if (url !== "" && !config.allowInsecureUrls && !secureUrl(url)) {
      const why = name === "WEBHOOK_URL" ? "; GitLab sends WEBHOOK_SECRET to it with every delivery" : "";
      problems.push(
        `${name}: must be an https URL (plain http only to a loopback host: localhost, 127.x.x.x or [::1]; or with ALLOW_INSECURE_URLS=true)${why}`,
      );
    }
  }
  return problems;
}

/** How API callers authenticate: at least one way, each complete, OAuth2 failing closed. */
function authProblems(a: Config["auth"]): string[] {
  const problems: string[] = [];
  const hasProvider = a.jwksUrl !== "" || a.introspectionUrl !== "";
  if (a.apiTokens.length === 0 && !hasProvider) {
    problems.push("API_TOKENS: serve needs at least one way to accept bearer tokens (API_TOKENS or AUTH_*)");
  }
  problems.push(...staticTokenProblems(a.apiTokens));
  if (a.jwksUrl !== "") {
    const missing = [a.issuer === "" && "AUTH_ISSUER", a.audience === "" && "AUTH_AUDIENCE"].filter(Boolean);
    if (missing.length > 0) {
      problems.push(`${missing.join(", ")}: required with AUTH_JWKS_URL (which tokens to accept)`);
    }
  }
  if ((a.uiClientId === "") !== (a.authorizeUrl === "")) {
    problems.push("AUTH_UI_CLIENT_ID, AUTH_AUTHORIZE_URL: the dashboard's sign-in needs both or neither");
  }
  if (a.introspectionUrl !== "" && (a.clientId === "" || a.clientSecret === "")) {
    problems.push("AUTH_INTROSPECTION_URL: needs AUTH_CLIENT_ID and AUTH_CLIENT_SECRET");
  }
  if (a.introspectionUrl !== "" && a.audience === "") {
    problems.push(
      "AUTH_AUDIENCE: required with AUTH_INTROSPECTION_URL (only tokens whose aud, or client_id, names it are accepted; without it an active token of any client of the provider would be)",
    );
  }
  return problems;
}

/** Shortest value accepted for each secret (a shorter one is refused at start). */
export const MIN_SECRET_LENGTH = {
  GITLAB_TOKEN: 8,
  WEBHOOK_SECRET: 24,
  API_TOKENS: 16,
  AUTH_CLIENT_SECRET: 8,
  /** a password inside DATABASE_URL or AMQP_URL (RabbitMQ's default `guest` passes) */
  URL_PASSWORD: 4,
} as const;

/**
 * A password inside DATABASE_URL or AMQP_URL is redacted wherever a URL shows it
 * (`user:PASSWORD@`, see redact() in lib/log.ts). Only one at least this long is also redacted
 * as free text: `guest` or `item` would otherwise turn every `guest` user name and every
 * `item-sync` in the logs into `[redacted]`.
 */
export const MIN_FREE_TEXT_URL_PASSWORD = 8;
/** OTLP header values this long are redacted as secrets (shorter ones, a tenant id, are not). */
export const MIN_HEADER_SECRET_LENGTH = 8;

/**
 * What an Authorization header can carry (RFC 6750 §2.1 b64token): a static token made of
 * anything else — a space, `!`, `@`, a non-ASCII letter — could never authenticate.
 */
export const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The floor of guessable(): well below what 16 random hex characters give (51 bits at the median). */
const MIN_TOKEN_ESTIMATED_BITS = 36;

/**
 * Whether a token is plainly guessable: one short unit repeated (`abcabcabc…`,
 * `passwordpassword`), or under MIN_TOKEN_ESTIMATED_BITS by its character frequencies (length ×
 * Shannon entropy: `aaaaaaaaaaaaaaaa` 0 bits, `abcdabcdabcdabcd` 32). A crude floor, not a
 * strength meter: random tokens of 16 hex characters pass 99.99 % of the time, 24 always.
 */
export function guessable(token: string): boolean {
  for (let unit = 1; unit <= token.length / 2; unit++) {
    if (token.length % unit === 0 && token.slice(unit) === token.slice(0, -unit)) return true;
  }
  const counts = new Map<string, number>();
  for (const ch of token) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bitsPerChar = 0;
  for (const n of counts.values()) bitsPerChar -= (n / token.length) * Math.log2(n / token.length);
  return bitsPerChar * token.length < MIN_TOKEN_ESTIMATED_BITS;
}

/**
 * API_TOKENS entries that could never authenticate, would authenticate ambiguously or are
 * guessable. Entries are named by position (`entry 2`), never by value.
 */
function staticTokenProblems(tokens: StaticToken[]): string[] {
  const out: string[] = [];
  const firstSeen = new Map<string, number>();
  tokens.forEach((t, i) => {
    const entry = `API_TOKENS: entry ${i + 1}`;
    if (t.role === null) out.push(`${entry}: a role after ':' must be read, operate or admin (TOKEN:ROLE)`);
    if (t.token.length < MIN_SECRET_LENGTH.API_TOKENS) {
      out.push(`${entry}: the token must be at least ${MIN_SECRET_LENGTH.API_TOKENS} characters long`);
    } else if (!TOKEN_SYNTAX.test(t.token)) {
      out.push(
        `${entry}: a token may hold only letters, digits and - . _ ~ + / (then = padding): it could never be sent in an Authorization: Bearer header`,
      );
    } else if (guessable(t.token)) {
      out.push(
        `${entry}: the token is guessable (a pattern repeated, or too few different characters); generate one with openssl rand -hex 24`,
      );
    }
    const earlier = firstSeen.get(t.token);
    if (earlier !== undefined) {
      out.push(`${entry}: the same token as entry ${earlier} (each token once, with one role)`);
    } else firstSeen.set(t.token, i + 1);
  });
  return out;
}

/** The passwords inside a URL, or inside each of a comma-separated list of URLs. */
function urlPasswords(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    try {
      const u = new URL(part.trim());
      if (u.password) out.push(decodeURIComponent(u.password));
    } catch {
      // not a URL with credentials (or reported elsewhere)
    }
  }
  return out;
}

/** `TOKEN` or `TOKEN:ROLE` (a token never holds ':'); a bad role shows as role null. */
function parseStaticToken(entry: string): StaticToken {
  const colon = entry.lastIndexOf(":");
  if (colon < 0) return { token: entry, role: "admin" };
  const role = entry
    .slice(colon + 1)
    .trim()
    .toLowerCase();
  return { token: entry.slice(0, colon), role: isRole(role) ? role : (null as unknown as Role) };
}

/** https, or http to a loopback host (a sidecar or a test double on the same machine). */
function secureUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || isLoopbackHost(u.hostname);
  } catch {
    return true; // reported as not a valid URL already
  }
}

/**
 * `localhost`, an IPv4 literal in 127.0.0.0/8 or `::1` — a literal, never a name that merely
 * starts like one (`127.evil.example` resolves wherever its owner likes). `hostname` is as the
 * URL parser leaves it: lower case, IPv4 normalised (`127.1` → `127.0.0.1`), IPv6 in brackets.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/**
 * Every secret value in the configuration, for log redaction as free text. A short URL password
 * is left out (MIN_FREE_TEXT_URL_PASSWORD): redact() removes it wherever a URL carries it.
 */
export function secretValues(config: Config): string[] {
  const out = [
    config.gitlab.token,
    config.gitlab.webhookSecret,
    config.auth.clientSecret,
    ...config.auth.apiTokens.map((t) => t.token),
    // an OTLP header value long enough to be a credential (an API key, a Basic token)
    ...Object.values(config.tracing?.headers ?? {}).filter((v) => v.length >= MIN_HEADER_SECRET_LENGTH),
  ];
  for (const url of [config.databaseUrl, ...config.amqp.urls]) {
    try {
      const u = url.startsWith("postgres") ? parsePostgresUrl(url).url : new URL(url);
      const password = decodeURIComponent(u.password);
      if (password.length >= MIN_FREE_TEXT_URL_PASSWORD) out.push(password);
    } catch {
      // not a URL with credentials
    }
  }
  return out.filter((s) => s !== "");
}
