/**
 * A Postgres primary and its streaming-replication hot standby on this machine, for a test
 * (scripts/postgres.sh start-primary / standby / crash / promote): the multi-host URL an operator
 * would give, the primary lost at once, the standby promoted.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

const PG = join(import.meta.dir, "../../../scripts/postgres.sh");
const RMQ = join(import.meta.dir, "../../../scripts/rabbitmq.sh");

async function run(script: string, ...args: string[]): Promise<string> {
  const proc = Bun.spawn(["bash", script, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${script} ${args.join(" ")} failed (${code}): ${err}`);
  return out;
}

export interface PostgresPair {
  /** postgres://postgres@primary,standby/postgres?target_session_attrs=read-write */
  url: string;
  ports: { primary: number; standby: number };
  /** `pg_ctl stop -m immediate` of the primary: the machine is lost */
  crashPrimary(): Promise<void>;
  /** `pg_ctl promote` of the standby */
  promoteStandby(): Promise<void>;
  /** the last lines of both servers' logs, for a failure's message */
  logs(): string;
  destroy(): Promise<void>;
}

/**
 * Waits until the primary on `port` streams to its standby synchronously: from then on no commit
 * is acknowledged before the standby has it, so promoting the standby loses no committed write
 * (as a failover manager's synchronous mode promises). Asynchronous replication may lose the
 * last moments' commits in a crash: docs/cluster.md says what item-sync does then.
 */
async function untilSynchronous(port: number): Promise<void> {
  const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rows = await sql<
        { sync_state: string; state: string }[]
      >`select sync_state, state from pg_stat_replication`;
      if (rows.some((r) => r.sync_state === "sync" && r.state === "streaming")) return;
      if (Date.now() > deadline)
        throw new Error(
          `the standby is not a streaming synchronous standby after 60 s: ${JSON.stringify(rows)}`,
        );
      await Bun.sleep(100);
    }
  } finally {
    await sql.end();
  }
}

export async function startPostgresPair(): Promise<PostgresPair> {
  const dir = mkdtempSync(join(tmpdir(), "item-sync-pg-ha-"));
  chmodSync(dir, 0o755); // the servers run as the postgres user
  // ports below the ephemeral range (scripts/rabbitmq.sh free-port)
  const primary = Number((await run(RMQ, "free-port")).trim());
  let standby = primary;
  while (standby === primary) standby = Number((await run(RMQ, "free-port")).trim());
  const destroy = async () => {
    await run(PG, "stop", join(dir, "standby")).catch(() => {});
    await run(PG, "stop", join(dir, "primary")).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(PG, "start-primary", join(dir, "primary"), String(primary));
    await run(PG, "standby", join(dir, "standby"), String(primary), String(standby));
    await untilSynchronous(primary);
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${primary},127.0.0.1:${standby}/postgres?target_session_attrs=read-write`,
    ports: { primary, standby },
    crashPrimary: () => run(PG, "crash", join(dir, "primary")).then(() => {}),
    promoteStandby: () => run(PG, "promote", join(dir, "standby")).then(() => {}),
    logs: () =>
      ["primary", "standby"]
        .map((name) => {
          const file = join(dir, name, "server.log");
          const text = existsSync(file) ? readFileSync(file, "utf8") : "(no log)";
          const lines = text.split("\n");
          const shown = lines.length <= 60 ? lines : [...lines.slice(0, 40), "[…]", ...lines.slice(-20)];
          return `--- ${name} server.log\n${shown.join("\n")}`;
        })
        .join("\n"),
    destroy,
  };
}
