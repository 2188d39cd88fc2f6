/**
 * The one reader of the environment's values: each variable read as a string, name, list, URL,
 * number, boolean, cron pattern, time zone or database/broker URL, with its default, each read
 * traced (reference.test.ts) and each problem collected — never thrown — so that start-up lists
 * every problem at once. Secret values are never shown in a problem.
 */
import { isIP } from "node:net";
import { Cron } from "croner";
import { CONFIG_VARIABLES } from "./variables.ts";

export type ConfigInput = Record<string, string | undefined>;

/**
 * Called with each variable loadConfig reads and the default it applies (undefined = required):
 * how test/config/reference.test.ts checks src/config/variables.ts and docs/reference.md against
 * the code.
 */
export type ReadTrace = (name: string, fallback: string | undefined) => void;

const SECRETS = new Set(CONFIG_VARIABLES.filter((v) => v.secret).map((v) => v.name));

/** How config modules (config/tracing.ts) read variables: each read traced, each problem collected. */
export type ConfigReader = ReturnType<typeof createReader>;

export function createReader(env: ConfigInput, problems: string[], trace?: ReadTrace) {
  const isSecret = (name: string) => SECRETS.has(name);
  const shown = (name: string, raw: string) => (isSecret(name) ? "(value hidden)" : JSON.stringify(raw));

  /** The trimmed value, the default when unset/empty, or a problem when required and missing. */
  function raw(name: string, fallback: string | undefined): string | undefined {
    trace?.(name, fallback);
    const value = env[name]?.trim();
    if (value !== undefined && value !== "") return value;
    if (fallback === undefined) problems.push(`${name}: required but not set`);
    return fallback;
  }

  /** A problem unless `value` parses as a URL with one of `protocols`. */
  function checkUrl(name: string, value: string, protocols: string[]): void {
    try {
      if (!protocols.includes(new URL(value).protocol))
        problems.push(`${name}: ${shown(name, value)} must be a ${protocols.join(" or ")} URL`);
    } catch {
      problems.push(`${name}: ${shown(name, value)} is not a valid URL`);
    }
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
    /** IP addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`). */
    addressList(name: string): string[] {
      const entries = this.list(name);
      for (const entry of entries) {
        const [address = "", bits, extra] = entry.split("/");
        const family = isIP(address);
        const max = family === 6 ? 128 : 32;
        const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
        if (family === 0 || !okBits || extra !== undefined) {
          problems.push(
            `${name}: ${JSON.stringify(entry)} is not an IP address or a CIDR range (10.0.0.0/8, fd00::/8)`,
          );
        }
      }
      return entries;
    },
    urlList(name: string, protocols: string[]): string[] {
      const urls = this.list(name);
      for (const v of urls) checkUrl(name, v, protocols);
      return urls;
    },
    /** A Postgres schema name we can use unquoted in every statement: lower case, digits, _. */
    schema(name: string, fallback: string): string {
      const v = raw(name, fallback) ?? fallback;
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(v) || v.startsWith("pg_")) {
        problems.push(
          `${name}: ${shown(name, v)} must be a Postgres schema name of lower-case letters, digits and '_' (at most 63, not starting with a digit or pg_)`,
        );
        return fallback;
      }
      return v;
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
      checkUrl(name, v, protocols);
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
        `${name}: must be sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (several hosts for failover: postgres://USER:PASSWORD@HOST1:5432,HOST2:5432/DATABASE?target_session_attrs=read-write)`,
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
