/**
 * A Postgres primary and its streaming-replication hot standby on this machine, for a test
 * (scripts/postgres.sh start / standby / crash / promote): the multi-host URL an operator would
 * give, the primary lost at once, the standby promoted.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
  destroy(): Promise<void>;
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
    await run(PG, "start", join(dir, "primary"), String(primary));
    await run(PG, "standby", join(dir, "standby"), String(primary), String(standby));
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${primary},127.0.0.1:${standby}/postgres?target_session_attrs=read-write`,
    ports: { primary, standby },
    crashPrimary: () => run(PG, "crash", join(dir, "primary")).then(() => {}),
    promoteStandby: () => run(PG, "promote", join(dir, "standby")).then(() => {}),
    destroy,
  };
}
