/**
 * What an operator reads when the database is the problem: a connection failure becomes
 * "DATABASE_URL: cannot connect to HOST:PORT (reason)", a database without our tables becomes
 * "database not migrated: run `item-sync migrate`" — StartupErrors (exit 2), not driver text.
 */
import { existsSync } from "node:fs";
import { StartupError } from "../lib/errors.ts";
import type { Db } from "./client.ts";
import { embeddedMigrations, migrationsTable } from "./migrate.ts";

const MIGRATE_HINT = "run `item-sync migrate` (or start serve/worker with DB_MIGRATE=true)";

/** `host:port` of a Postgres URL (every host of a multi-host one), or `the SQLite file PATH`. */
export function databaseTarget(url: string): string {
  if (url.startsWith("sqlite:")) return `the SQLite file ${url.slice("sqlite:".length)}`;
  const hosts = /^postgres(?:ql)?:\/\/(?:[^@/]*@)?([^/?#]*)/.exec(url)?.[1] ?? "";
  return (
    hosts
      .split(",")
      .map((h) => (h === "" ? "localhost:5432" : h.includes(":") && !h.endsWith("]") ? h : `${h}:5432`))
      .join(",") || "localhost:5432"
  );
}

const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused: is Postgres running and listening there?",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "no answer",
  EHOSTUNREACH: "host unreachable",
  ECONNRESET: "the connection was reset",
  CONNECT_TIMEOUT: "no answer within the connect timeout",
  DB_NO_ANSWER: "no answer",
  "28P01": "password authentication failed",
  "28000": "the server refused this user",
  "3D000": "the database does not exist",
  "53300": "too many connections",
  "57P03": "the server is starting up or shutting down",
};

/**
 * The StartupError for a failure to reach or open the database, or undefined when `err` is
 * something else (a failing statement, a bug) and must surface as it is.
 */
export function connectionError(err: unknown, url: string): StartupError | undefined {
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  const message = err instanceof Error ? err.message : String(err);
  if (url.startsWith("sqlite:")) {
    if (code.startsWith("SQLITE_READONLY")) {
      return new StartupError(
        `DATABASE_URL: ${databaseTarget(url)} is read-only for this process (${message}): item-sync writes to it; give this user write access to the file and its folder (SQLite keeps -wal and -shm files beside it)`,
        { cause: err },
      );
    }
    if (code === "SQLITE_CANTOPEN" || code === "SQLITE_PERM") {
      return new StartupError(
        `DATABASE_URL: cannot open ${databaseTarget(url)} (${message}): does its folder exist, and may this user write there?`,
        { cause: err },
      );
    }
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
      return new StartupError(
        `DATABASE_URL: ${databaseTarget(url)} is not a usable SQLite database (${message})`,
        {
          cause: err,
        },
      );
    }
    return undefined;
  }
  const reason = CONNECT_CODES[code];
  if (!reason) return undefined;
  // the server's own words for its refusals (they name the user or database); ours for the network
  const detail = /^[0-9]/.test(code) ? message : reason;
  return new StartupError(`DATABASE_URL: cannot connect to ${databaseTarget(url)} (${detail})`, {
    cause: err,
  });
}

/** Runs `fn`; a failure to reach the database becomes the operator's StartupError. */
export async function explainingConnection<T>(url: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw connectionError(err, url) ?? err;
  }
}

/**
 * Before opening a SQLite database that will not be migrated: a missing file is an error, and is
 * not created (an empty file would only hide the mistake at the next start).
 */
export function requireExistingSqlite(url: string): void {
  if (!url.startsWith("sqlite:")) return;
  const path = url.slice("sqlite:".length);
  if (path === ":memory:" || path.startsWith("file:")) return;
  if (!existsSync(path)) {
    throw new StartupError(
      `DATABASE_URL: ${databaseTarget(url)} does not exist: database not migrated: ${MIGRATE_HINT}`,
    );
  }
}

/**
 * Checks that the database answers and carries every migration this release embeds; throws the
 * operator's StartupError otherwise.
 */
export async function checkDatabase(db: Db, url: string, schema?: string): Promise<void> {
  const table = migrationsTable(db.dialect, schema);
  await explainingConnection(url, () => db.all("select 1 as ok"));
  let lastWhen = 0;
  let applied = 0;
  try {
    const [row] = await db.all<{ last: unknown; n: unknown }>(
      `select max(created_at) as last, count(*) as n from ${table}`,
    );
    lastWhen = Number(row?.last ?? 0);
    applied = Number(row?.n ?? 0);
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? "");
    const missing =
      code === "42P01" || code === "3F000" || /no such table/i.test(String((err as Error).message));
    if (!missing) throw connectionError(err, url) ?? err;
  }
  const pending = embeddedMigrations(db.dialect).filter((m) => m.when > lastWhen);
  if (applied === 0) throw new StartupError(`database not migrated: ${MIGRATE_HINT}`);
  if (pending.length > 0) {
    throw new StartupError(
      `database not migrated to this release: ${pending.length} migration(s) missing (${pending.map((m) => m.tag).join(", ")}): ${MIGRATE_HINT}`,
    );
  }
}
