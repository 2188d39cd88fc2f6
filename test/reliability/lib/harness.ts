/**
 * Shared pieces of the reliability scenarios: the service's environment for a simulator and a
 * broker, waiting for an execution's end, the execution-history invariants (never two running,
 * every dead one FAILED with a reason), process RSS and open fds from /proc, a private Postgres
 * server a test may restart, and the comparison of the tap's update-items with GitLab's projects.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db } from "../../../src/db/client.ts";
import { API_TOKEN, type api, freePort, waitFor } from "../../helpers/binary.ts";
import { type GitlabSim, startGitlabSim } from "../../sim/gitlab.ts";

export const WEBHOOK_URL = "https://item-sync.test/webhooks/gitlab";
export const WEBHOOK_SECRET = "reliability-webhook-secret";
export const TERMINAL = ["COMPLETED", "FAILED", "STOPPED", "ABANDONED"];
export const RUNNING = ["STARTING", "STARTED", "STOPPING"];
export type Call = ReturnType<typeof api>;
export type Execution = Record<string, unknown> & {
  id: number;
  status: string;
  exitMessage: string;
  counts: Record<string, number>;
  restartOf: number | null;
  step?: { commitCount: number; context: Record<string, unknown> };
};

/** The simulator as the scenarios use it: `projects` in one flat group, answers `latencyMs` late. */
export function scenarioSim(projects: number, latencyMs = 0): GitlabSim {
  return startGitlabSim({
    projects,
    latencyMs,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: WEBHOOK_URL,
  });
}

/** The environment of a `serve` for this simulator; ingest off unless asked. */
export function serviceEnv(
  sim: Pick<GitlabSim, "url" | "token" | "group">,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    GITLAB_URL: sim.url,
    GITLAB_TOKEN: sim.token,
    GITLAB_GROUP: sim.group,
    GITLAB_CONCURRENCY: "8",
    WEBHOOK_URL,
    WEBHOOK_SECRET,
    API_TOKENS: API_TOKEN,
    INGEST_ENABLED: "false",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

export async function getExecution(call: Call, id: number): Promise<Execution> {
  return (await call("GET", `/jobs/${id}`)).body as unknown as Execution;
}

/** Waits for a terminal status; fails early when `proc` exits. */
export async function waitTerminal(
  call: Call,
  id: number,
  timeoutMs = 120_000,
  proc?: { proc: { exitCode: number | null }; logs(): string },
): Promise<Execution> {
  return waitFor(
    `execution ${id} to end`,
    async () => {
      if (proc && proc.proc.exitCode !== null)
        throw new Error(`serve exited ${proc.proc.exitCode}:\n${proc.logs().slice(-3000)}`);
      const r = await getExecution(call, id).catch(() => null);
      return r !== null && TERMINAL.includes(r.status) && r;
    },
    timeoutMs,
  );
}

export interface HistoryRow {
  id: number;
  status: string;
  exitMessage: string;
  startTime: number | null;
  endTime: number | null;
}

export async function readHistory(db: Db): Promise<HistoryRow[]> {
  const rows = await db.all<Record<string, unknown>>(
    "select job_execution_id, status, exit_message, start_time, end_time from batch_job_execution order by job_execution_id",
  );
  const ms = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).getTime());
  return rows.map((r) => ({
    id: Number(r.job_execution_id),
    status: String(r.status),
    exitMessage: String(r.exit_message ?? ""),
    startTime: ms(r.start_time),
    endTime: ms(r.end_time),
  }));
}

/**
 * What a consistent history looks like after every process has ended: nothing still running,
 * no two executions whose lifetimes overlap, every FAILED one with a reason. Returns the problems.
 */
export function historyProblems(rows: HistoryRow[], opts: { allowRunning?: boolean } = {}): string[] {
  const problems: string[] = [];
  const running = rows.filter((r) => RUNNING.includes(r.status));
  if (running.length > (opts.allowRunning ? 1 : 0))
    problems.push(`running: ${running.map((r) => `${r.id} ${r.status}`).join(", ")}`);
  for (const r of rows) {
    if (r.status === "FAILED" && r.exitMessage.trim() === "")
      problems.push(`${r.id} FAILED without a reason`);
    if (TERMINAL.includes(r.status) && r.endTime === null)
      problems.push(`${r.id} ${r.status} without end time`);
  }
  const spans = rows
    .filter((r) => r.startTime !== null)
    .map((r) => ({ id: r.id, from: r.startTime as number, to: r.endTime ?? Number.POSITIVE_INFINITY }))
    .sort((a, b) => a.from - b.from);
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1];
    const b = spans[i];
    // A dead execution's end time is when the lease sweep noticed, which may be after the next start.
    if (a && b && b.from < a.to) {
      const dead = rows.find((r) => r.id === a.id);
      if (!dead?.exitMessage.includes("no heartbeat")) problems.push(`${a.id} and ${b.id} overlap`);
    }
  }
  return problems;
}

/**
 * Fencing (the history oracle's part that needs fencing in place): nothing may come from an
 * execution after it was marked FAILED — no publish (by the messageId's execution id and when the
 * tap received it, allowing `slackMs` of delivery latency) and no write to its rows (a write after
 * the end leaves the job or step row's last_updated past the end time). Returns the problems.
 */
export async function fencingProblems(
  db: Db,
  published: readonly { properties: Record<string, unknown>; receivedAt: number }[],
  slackMs = 100,
): Promise<string[]> {
  const rows = await db.all<Record<string, unknown>>(
    `select e.job_execution_id, e.status, e.end_time, e.last_updated, max(s.last_updated) as step_last_updated
     from batch_job_execution e left join batch_step_execution s on s.job_execution_id = e.job_execution_id
     where e.status = 'FAILED' group by e.job_execution_id, e.status, e.end_time, e.last_updated`,
  );
  const ms = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).getTime());
  const problems: string[] = [];
  const failedAt = new Map<number, number>();
  for (const r of rows) {
    const id = Number(r.job_execution_id);
    const end = ms(r.end_time);
    if (end === null) continue;
    failedAt.set(id, end);
    const job = ms(r.last_updated);
    const step = ms(r.step_last_updated);
    if (job !== null && job > end) problems.push(`${id}: its execution row was written after it FAILED`);
    if (step !== null && step > end) problems.push(`${id}: its step row was written after it FAILED`);
  }
  const late = new Map<number, number>();
  for (const m of published) {
    const id = Number(String(m.properties.messageId ?? "").split(":")[0]);
    const end = failedAt.get(id);
    if (end !== undefined && m.receivedAt > end + slackMs) late.set(id, (late.get(id) ?? 0) + 1);
  }
  for (const [id, n] of late) problems.push(`${id}: ${n} message(s) published after it FAILED`);
  return problems;
}

/** Resident memory (kB) and open file descriptors of a process. */
export function procStats(pid: number): { rssKb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssKb, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Projects of the simulator's group listing that the tap never saw an update-item for. */
export function missingUpdates(ids: readonly number[], updates: Map<number, number>): number[] {
  return ids.filter((id) => !updates.has(id));
}

/** Update-items beyond one per project. */
export function duplicateCount(updates: Map<number, number>): number {
  let n = 0;
  for (const c of updates.values()) n += Math.max(0, c - 1);
  return n;
}

/** A private PostgreSQL server (scripts/postgres.sh) a test can stop and start again. */
export interface PrivatePostgres {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

const PG_SCRIPT = join(import.meta.dir, "../../../scripts/postgres.sh");

async function pgScript(...args: string[]) {
  const proc = Bun.spawn(["bash", PG_SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`scripts/postgres.sh ${args.join(" ")} failed (${code}): ${err}`);
}

export async function createPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), "item-sync-pg-"));
  const port = freePort();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: () => pgScript("start", dir, String(port)),
    stop: () => pgScript("stop", dir),
    async destroy() {
      await pgScript("stop", dir).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const formatKb = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
export { API_TOKEN };
