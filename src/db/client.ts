/**
 * The database seam. Repositories write plain SQL with `$1` placeholders against `Db`, and the
 * same statements run on Postgres (postgres.js) and SQLite (bun:sqlite); drizzle owns the schema
 * and the migrations. Differences handled here:
 * - SQLite placeholders become `?1`, Dates become epoch milliseconds, booleans 0/1;
 * - Postgres int8 comes back as a number (ids and counts stay far below 2^53);
 * - bun:sqlite is synchronous, so a transaction that awaits would let other callers' statements
 *   slip into it: every SQLite statement of the process is serialised behind one async mutex,
 *   and a transaction holds it from BEGIN IMMEDIATE to COMMIT.
 */
import { Database } from "bun:sqlite";
import postgres from "postgres";

export type Dialect = "pg" | "sqlite";
export type Row = Record<string, unknown>;

export interface Db {
  readonly dialect: Dialect;
  all<T = Row>(query: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement; returns the number of rows it changed. */
  run(query: string, params?: readonly unknown[]): Promise<number>;
  /** One transaction; on SQLite it takes the write lock at BEGIN (BEGIN IMMEDIATE). */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** Postgres pool size. */
  maxConnections?: number;
  /**
   * Postgres schema holding item-sync's tables (DATABASE_SCHEMA): every connection starts with
   * `search_path` set to it alone, so our unqualified names never resolve to another
   * application's tables of the same name (the replaced service's `imrt.batch_job_instance`).
   * Unset or `public`: the server's search_path, as before.
   */
  schema?: string;
  /**
   * Postgres ends a session left idle inside a transaction for longer than this (the server's
   * idle_in_transaction_session_timeout), releasing its locks. Our transactions send their
   * statements back to back, so only a client that lost track of one stays idle in it — which
   * postgres.js has been seen to do when the server refuses new connections (too many for the
   * role) — and its row locks would otherwise block every later write of that row for ever.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * A query or transaction (outside any transaction) with no answer within this fails with code
   * DB_NO_ANSWER, which counts as the database being unavailable. The query may still run on the
   * server; callers treat the failure like any other (retry, fail the execution, answer 503).
   * For the same postgres.js hangs: a caller must not wait on them for ever. Not for migrations.
   */
  answerTimeoutMs?: number;
}

/** Postgres `application_name` of every item-sync session. */
export const APPLICATION_NAME = "item-sync";

/** The code of the error for a Postgres query with no answer within DbOptions.answerTimeoutMs. */
export const DB_NO_ANSWER = "DB_NO_ANSWER";

function answered<T>(work: PromiseLike<T>, ms: number | undefined, what: string): Promise<T> {
  const started = Promise.resolve(work);
  if (!ms) return started;
  started.catch(() => {}); // abandoned after a timeout, its own failure is nobody's to handle
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`the database gave no answer to a ${what} within ${ms / 1000} s`);
      reject(Object.assign(err, { code: DB_NO_ANSWER }));
    }, ms);
  });
  return Promise.race([started, timeout]).finally(() => clearTimeout(timer));
}

export function openDb(url: string, options: DbOptions = {}): Db {
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length));
  return openPostgres(url, options);
}

/**
 * Runs `fn` (postgres.js's option parsing, synchronous) with the PG* variables out of sight.
 * postgres.js fills what the URL leaves out from libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD,
 * PGDATABASE, PGAPPNAME, PGTARGETSESSIONATTRS and from PG<OPTION> (PGSSL, PGIDLE_TIMEOUT, …);
 * item-sync's database is DATABASE_URL alone, so none of them may change where it connects or
 * how. main.ts warns when they are set. No other code runs while they are away.
 */
function withoutLibpqVariables<T>(fn: () => T): T {
  const hidden = Object.entries(process.env).filter(([name]) => /^PG[A-Z_]+$/.test(name));
  for (const [name] of hidden) delete process.env[name];
  try {
    return fn();
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
  }
}

function openPostgres(url: string, options: DbOptions): Db {
  const sql = withoutLibpqVariables(() =>
    postgres(url, {
      max: options.maxConnections ?? 10,
      ...sessionAttrs(url),
      // postgres.js waits up to 20 s between reconnect attempts once several failed (3^n / 100 s):
      // after a failover that is 20 s more without a database. At most ~1 s, jittered, instead.
      backoff: (retries: number) => Math.min(0.1 * 2 ** retries, 1) * (0.5 + Math.random() / 2),
      onnotice: () => {},
      connection: {
        // how the sweep recognises our own sessions among the database's (batch/sql.ts)
        application_name: APPLICATION_NAME,
        ...(options.idleInTransactionTimeoutMs
          ? { idle_in_transaction_session_timeout: Math.round(options.idleInTransactionTimeoutMs) }
          : {}),
        ...(options.schema && options.schema !== "public" ? { search_path: options.schema } : {}),
      },
      types: {
        int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
      },
    }),
  );
  // statements inside a transaction are covered by the transaction's own timeout
  const limit = (inTx: boolean) => (inTx ? undefined : options.answerTimeoutMs);
  const wrap = (conn: postgres.Sql | postgres.TransactionSql, inTx: boolean): Db => ({
    dialect: "pg",
    async all<T>(query: string, params: readonly unknown[] = []) {
      const rows = conn.unsafe(query, params as postgres.ParameterOrJSON<never>[]);
      return (await answered(rows, limit(inTx), "query")) as unknown as T[];
    },
    async run(query, params = []) {
      const result = conn.unsafe(query, params as postgres.ParameterOrJSON<never>[]);
      return (await answered(result, limit(inTx), "statement")).count;
    },
    async transaction(fn) {
      if (inTx) return fn(wrap(conn, true));
      return (await answered(
        sql.begin((tx) => fn(wrap(tx, true))),
        limit(false),
        "transaction",
      )) as never;
    },
    async close() {
      if (!inTx) await sql.end({ timeout: 5 });
    },
  });
  return wrap(sql, false);
}

/**
 * libpq's `target_session_attrs=read-write` finds the primary of a multi-host URL by asking for
 * `default_transaction_read_only`, but postgres.js 3.4 reads that setting, which is `off` on a
 * hot standby of Postgres 14 and later: it may settle on the standby, and every write then fails
 * with 25006. `primary` asks `pg_is_in_recovery()` instead, which is what the user meant.
 */
function sessionAttrs(url: string): { target_session_attrs?: "primary" } {
  const query = url.split("?")[1] ?? "";
  const attrs = new URLSearchParams(query).get("target_session_attrs");
  return attrs === "read-write" ? { target_session_attrs: "primary" } : {};
}

/**
 * A file this process may read but not write opens without complaint and fails every write
 * later (SQLITE_READONLY, which no retry heals): write the header's user_version with its own
 * value and roll back, so that failure comes now, at start-up. Throws SQLite's error.
 */
function probeWritable(db: Database): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    const row = db.query("PRAGMA user_version").get() as { user_version: number };
    db.exec(`PRAGMA user_version = ${Number(row.user_version)}`);
  } finally {
    db.exec("ROLLBACK");
  }
}

function openSqlite(path: string): Db {
  const db = new Database(path, { create: true, strict: false });
  // busy_timeout first: the statements after it (journal_mode too) then wait for a lock another
  // process holds — replicas migrating the same file at start-up — instead of failing SQLITE_BUSY
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  try {
    probeWritable(db);
  } catch (err) {
    db.close();
    throw err;
  }

  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const result = queue.then(fn);
    queue = result.catch(() => {});
    return result;
  };

  const toSqlite = (query: string) => query.replace(/\$(\d+)/g, "?$1");
  const bind = (params: readonly unknown[]) =>
    params.map((p) =>
      p instanceof Date ? p.getTime() : typeof p === "boolean" ? (p ? 1 : 0) : p,
    ) as never[];
  const allNow = <T>(query: string, params: readonly unknown[]) =>
    db.query(toSqlite(query)).all(...bind(params)) as T[];
  const runNow = (query: string, params: readonly unknown[]) =>
    db.query(toSqlite(query)).run(...bind(params)).changes;

  const inside: Db = {
    dialect: "sqlite",
    all: async (q, p = []) => allNow(q, p),
    run: async (q, p = []) => runNow(q, p),
    transaction: (fn) => fn(inside),
    close: async () => {},
  };

  return {
    dialect: "sqlite",
    all: (q, p = []) => exclusive(() => allNow(q, p)),
    run: (q, p = []) => exclusive(() => runNow(q, p)),
    transaction: (fn) =>
      exclusive(async () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(inside);
          db.exec("COMMIT");
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw err;
        }
      }),
    close: () => exclusive(() => db.close()),
  };
}

/** Reads a timestamp column: Postgres gives a Date, SQLite epoch milliseconds. */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  if (typeof value === "string") return new Date(/^\d+$/.test(value) ? Number(value) : value);
  return null;
}

/** Reads a boolean column: SQLite stores 0/1. */
export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "t";
}

const PG_UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "25006", // read_only_sql_transaction: connected to a standby (a failover under way)
]);

/**
 * True when an error says the database cannot serve right now (unreachable, shutting down, out
 * of connections, its disk full or read-only, busy) rather than that a statement was wrong: the
 * HTTP layer answers 503 for these, not 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? "");
  if (code === DB_NO_ANSWER) return true;
  if (PG_UNAVAILABLE_CODES.has(code) || code.startsWith("08")) return true; // 08xxx: connection exception
  // SQLITE_CORRUPT included: an I/O failure under SQLite (a filesystem shut down) surfaces as it.
  return /^SQLITE_(FULL|READONLY|IOERR|BUSY|LOCKED|CANTOPEN|PROTOCOL|CORRUPT)/.test(code);
}
