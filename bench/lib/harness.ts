/**
 * What every benchmark scenario needs around item-sync: the simulator in its own process, a
 * private RabbitMQ node, unique broker names deleted after use, the compiled binary run as a
 * real process with its wall time, peak RSS and CPU time, and small statistics helpers.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection } from "rabbitmq-client";

export const ROOT = join(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist/item-sync");
export const WEBHOOK_URL = "https://item-sync.bench/webhooks/gitlab";
export const API_TOKEN = "bench-token-0123456789abcdef";

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Runs a shell command, throws with its output when it fails. */
export async function sh(cmd: string[], opts: { cwd?: string; quiet?: boolean } = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: opts.cwd ?? ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}:\n${out}\n${err}`);
  return out;
}

export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port as number;
  server.stop(true);
  return port;
}

// ---------------------------------------------------------------- simulator

export interface SimStats {
  requests: number;
  rateLimited: number;
  earlyRequests: number;
  byStatus: Record<string, number>;
  peakConcurrency: number;
  firstArrivalMs: number | null;
  lastArrivalMs: number | null;
  maxInOneSecond: number;
  cpuMs: number;
  rssBytes: number;
}

export interface SimProcess {
  pid: number;
  url: string;
  token: string;
  group: string;
  projects: number;
  stats(): Promise<SimStats>;
  reset(): Promise<void>;
  /** The control listener (bench/sim-server.ts), for routes beyond stats and reset. */
  controlUrl: string;
  stop(): Promise<void>;
}

export async function startSim(opts: {
  projects: number;
  latencyMs?: number;
  rateLimit?: number;
  /** More command-line options of bench/sim-server.ts. */
  args?: string[];
  /** requests the client may have under way when a 429 reaches it: its GITLAB_CONCURRENCY */
  earlyAllowance?: number;
}): Promise<SimProcess> {
  const args = ["--projects", String(opts.projects), "--latency-ms", String(opts.latencyMs ?? 0)];
  args.push(...(opts.args ?? []));
  if (opts.rateLimit) args.push("--rate-limit", String(opts.rateLimit));
  if (opts.earlyAllowance) args.push("--early-allowance", String(opts.earlyAllowance));
  const proc = Bun.spawn(["bun", join(ROOT, "bench/sim-server.ts"), ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`simulator exited before listening (code ${await proc.exited})`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const info = JSON.parse(text.slice(0, text.indexOf("\n"))) as {
    url: string;
    token: string;
    group: string;
    controlUrl: string;
    projects: number;
  };
  return {
    pid: proc.pid,
    url: info.url,
    token: info.token,
    group: info.group,
    projects: info.projects,
    controlUrl: info.controlUrl,
    stats: async () => (await (await fetch(`${info.controlUrl}/stats`)).json()) as SimStats,
    reset: async () => {
      await fetch(`${info.controlUrl}/reset`, { method: "POST" });
    },
    stop: async () => {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------- RabbitMQ

export interface RabbitNode {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** A private RabbitMQ node (scripts/rabbitmq.sh), installed with apt when absent. */
export async function startRabbit(): Promise<RabbitNode> {
  const script = join(ROOT, "scripts/rabbitmq.sh");
  await sh(["bash", script, "install"]);
  const dir = mkdtempSync(join(tmpdir(), "item-sync-bench-rmq-"));
  const port = (await sh(["bash", script, "free-port"])).trim();
  await sh(["bash", script, "start", dir, port]);
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    dir,
    stop: async () => {
      await sh(["bash", script, "stop", dir]).catch((err) => log(`stopping RabbitMQ: ${err}`));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type BrokerNames = ReturnType<typeof brokerNames>;

let nameCounter = 0;
/** Exchange and queue names no other run uses. */
export function brokerNames(prefix: string) {
  const id = `bench-${prefix}-${process.pid}-${++nameCounter}`;
  return {
    AMQP_EXCHANGE: `${id}.items`,
    AMQP_MONITOR_QUEUE: `${id}-monitor`,
    AMQP_UPDATE_QUEUE: `${id}-update`,
    AMQP_DELETE_QUEUE: `${id}-delete`,
  };
}

/** Deletes the queues (with their messages) and exchanges of a run, so nothing piles up. */
export async function deleteBrokerNames(amqpUrl: string, names: BrokerNames, extraQueues: string[] = []) {
  const connection = new Connection({ url: amqpUrl });
  try {
    for (const q of [names.AMQP_MONITOR_QUEUE, names.AMQP_UPDATE_QUEUE, names.AMQP_DELETE_QUEUE]) {
      await connection.queueDelete({ queue: q }).catch(() => {});
      await connection.queueDelete({ queue: `${q}.dead` }).catch(() => {});
    }
    for (const q of extraQueues) await connection.queueDelete({ queue: q }).catch(() => {});
    await connection.exchangeDelete({ exchange: names.AMQP_EXCHANGE }).catch(() => {});
    await connection.exchangeDelete({ exchange: `${names.AMQP_EXCHANGE}.dlx` }).catch(() => {});
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------- the binary

/** Builds dist/item-sync when it is missing or older than a file under src/ (the figures must be HEAD's). */
export async function ensureBinary(): Promise<string> {
  const newest = (dir: string): number => {
    let t = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }
    return t;
  };
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= newest(join(ROOT, "src"))) return "up to date";
  log("dist/item-sync is missing or older than src/: bun run build");
  await sh(["bun", "run", "build"]);
  return "rebuilt by this run";
}

export interface Execution {
  id: number;
  status: string;
  exitMessage?: string;
  startTime: string | null;
  endTime: string | null;
  counts: {
    read: number;
    hooksChecked: number;
    monitorPublished: number;
    updatePublished: number;
    deletePublished: number;
    skipped: number;
  };
}

export interface SyncRun {
  code: number;
  wallMs: number; // spawn → exit
  executionMs: number; // the execution's startTime → endTime
  execution: Execution | null;
  maxRssBytes: number;
  cpuMs: number;
  stderr: string;
}

/** A temp directory with an SQLite path for one run. */
export function tempDb(): { url: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "item-sync-bench-db-"));
  return {
    url: `sqlite:${join(dir, "bench.db")}`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function syncEnv(
  sim: SimProcess,
  amqpUrl: string,
  names: BrokerNames,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    DATABASE_URL: databaseUrl,
    GITLAB_URL: sim.url,
    GITLAB_TOKEN: sim.token,
    GITLAB_GROUP: sim.group,
    WEBHOOK_URL,
    // serve requires one (at least 24 characters); the benchmarks never deliver webhooks
    WEBHOOK_SECRET: "bench-webhook-secret-0123456789",
    AMQP_URL: amqpUrl,
    SYNC_CRON: "off",
    LOG_LEVEL: "warn",
    ...names,
    ...extra,
  };
}

/** `item-sync sync --fresh` (or another command line) as a real process, measured. */
export async function runSync(
  env: Record<string, string>,
  command: string[] = [BINARY, "sync", "--fresh"],
): Promise<SyncRun> {
  const t0 = performance.now();
  const proc = Bun.spawn(command, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const wallMs = performance.now() - t0;
  const usage = proc.resourceUsage();
  let execution: Execution | null = null;
  const line = out.trim().split("\n").at(-1) ?? "";
  try {
    execution = JSON.parse(line) as Execution;
  } catch {
    // no JSON: the run failed before it printed one
  }
  const executionMs =
    execution?.startTime && execution.endTime
      ? Date.parse(execution.endTime) - Date.parse(execution.startTime)
      : Number.NaN;
  return {
    code,
    wallMs,
    executionMs,
    execution,
    maxRssBytes: usage?.maxRSS ?? 0,
    cpuMs: usage ? Number(usage.cpuTime.total) / 1000 : 0,
    stderr: err,
  };
}

/**
 * Throws unless the run completed and the broker holds an update-item for every one of
 * `projects`: `queued` is the update queue's depth read before the queue is deleted (nothing
 * consumes it during a benchmark sync), so completeness is the broker's count, not the run's own.
 */
export function checkComplete(run: SyncRun, projects: number, what: string, queued: number): void {
  if (run.code !== 0 || run.execution?.status !== "COMPLETED" || queued !== projects) {
    throw new Error(
      `${what}: sync did not complete for ${projects} projects (exit ${run.code}, ${queued} update-items in the queue, ` +
        `${JSON.stringify(run.execution)}):\n${run.stderr.slice(-3000)}`,
    );
  }
}

/** Messages waiting in a queue, as the broker counts them. */
export async function queueDepth(amqpUrl: string, queue: string): Promise<number> {
  const connection = new Connection({ url: amqpUrl });
  try {
    return (await connection.queueDeclare({ queue, passive: true })).messageCount;
  } finally {
    await connection.close();
  }
}
