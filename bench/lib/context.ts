/**
 * What every benchmark scenario shares: the parameters, the report being built (summary rows,
 * detail sections, notes), number formatting, the private RabbitMQ node, and one measured sync
 * run of the compiled binary against a simulator process. The runner is bench/run.ts; each
 * scenario is a file in bench/scenarios/.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  API_TOKEN,
  BINARY,
  brokerNames,
  checkComplete,
  deleteBrokerNames,
  freePort,
  queueDepth,
  type RabbitNode,
  ROOT,
  runSync,
  type SimProcess,
  type SimStats,
  type SyncRun,
  startSim,
  syncEnv,
  tempDb,
} from "./harness.ts";

export const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3));

// ------------------------------------------------------------------ scenario parameters
export const S1 = { projects: 20_000, latencyMs: 20, concurrency: 32, perPage: 100 };
export const S2 = { projects: 1_000, concurrency: 1 };
export const S34 = { projects: 4_000, latencyMs: 20, concurrency: 32, limit: 400 };
export const S5 = { small: 10_000, large: 100_000, concurrency: 32 };
export const S6 = { messages: 100_000, window: 1_000 };
// S7: enough projects that one sync outlasts the 30 s of load; it is stopped when the load ends.
export const S7 = {
  projects: 60_000,
  latencyMs: 20,
  concurrency: 32,
  seconds: 30,
  baselineSeconds: 10,
  connections: 4,
  delayMs: 20,
};
export const S8 = { reps: 5 };
export const PROFILE = { projects: 20_000 };

/** Values one scenario measures and a later one uses, and the broker the runner started. */
export const state = {
  rabbit: undefined as unknown as RabbitNode,
  CLK_TCK: 100,
  /** the simulator's real per-request latency at a nominal 20 ms (S0) */
  effectiveLatencyMs: Number.NaN,
  /** S1's wall time per project */
  s1PerProjectMs: Number.NaN,
  s3WallMs: Number.NaN,
};

export interface Row {
  id: string;
  scenario: string;
  figure: string;
  target: string;
  verdict: "met" | "MISSED" | "report";
}

export const rows: Row[] = [];
/** 1/5/15-minute load averages as each scenario started: other work on the machine shows here. */
export const loadBefore: string[] = [];
export const sections: string[] = [];
export const notes: string[] = [];

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
export const sec = (ms: number) => `${fmt(ms / 1000, 2)} s`;
export const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 0)} MB`;

export function table(header: string[], body: (string | number)[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

export interface MeasuredRun extends SyncRun {
  sim: SimStats;
  /** update-items in the broker's queue after the run, before the queue was deleted */
  queued: number;
  rabbitCpuMs: number;
  simCpuMs: number;
}

let _rabbit: RabbitNode;

/** CPU time (ms) of the RabbitMQ node (the Erlang VM), read from /proc. */
export function rabbitCpuMs(): number {
  try {
    return procCpuMs(rabbitPid());
  } catch {
    return Number.NaN;
  }
}

export async function measuredSync(
  sim: SimProcess,
  what: string,
  extraEnv: Record<string, string>,
  expectProjects: number,
  command?: string[],
): Promise<MeasuredRun> {
  const names = brokerNames(what.toLowerCase());
  const db = tempDb();
  await sim.reset();
  const simBefore = await sim.stats();
  const rabbitBefore = rabbitCpuMs();
  try {
    const run = await runSync(syncEnv(sim, state.rabbit.url, names, db.url, extraEnv), command);
    const simAfter = await sim.stats();
    const queued = await queueDepth(state.rabbit.url, names.AMQP_UPDATE_QUEUE).catch(() => -1);
    checkComplete(run, expectProjects, what, queued);
    return {
      ...run,
      queued,
      sim: simAfter,
      simCpuMs: simAfter.cpuMs - simBefore.cpuMs,
      rabbitCpuMs: rabbitCpuMs() - rabbitBefore,
    };
  } finally {
    await deleteBrokerNames(state.rabbit.url, names);
    db.cleanup();
  }
}

export async function withSim<T>(
  opts: { projects: number; latencyMs?: number; rateLimit?: number; earlyAllowance?: number },
  fn: (sim: SimProcess) => Promise<T>,
): Promise<T> {
  const sim = await startSim(opts);
  if (sim.projects !== opts.projects) throw new Error(`simulator seeded ${sim.projects} projects`);
  try {
    return await fn(sim);
  } finally {
    await sim.stop();
  }
}

export async function serveProcess(env: Record<string, string>) {
  const port = freePort();
  const proc = Bun.spawn([BINARY, "serve"], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1", API_TOKENS: API_TOKEN, INGEST_ENABLED: "false" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  return { proc, port, url: `http://127.0.0.1:${port}`, stderr };
}

export async function waitReady(url: string, proc: { exitCode: number | null }, stderr: Promise<string>) {
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}: ${await stderr}`);
    try {
      const res = await fetch(`${url}/health/ready`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error("serve not ready within 30 s");
    await Bun.sleep(2);
  }
}

export function rabbitPid(): number {
  return Number(readFileSync(join(state.rabbit.dir, "rabbit.pid"), "utf8").trim());
}

/** CPU time (ms) of any process, from /proc. */
export function procCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / state.CLK_TCK;
  } catch {
    return Number.NaN;
  }
}
