/**
 * OTEL: what tracing costs, on S1 (the sync: compiled binary, simulator, broker) and S6
 * (confirmed publishing), in four states side by side:
 *
 *   absent   a binary built without any tracing code (`scripts/build.ts --without-tracing`; for
 *            S6 the same stub preloaded: bench/lib/otel-preload.ts)
 *   off      the product as shipped, no OTEL endpoint (the default)
 *   on 100 % an endpoint (a local OTLP receiver in this process), every trace sampled and exported
 *   on 1 %   the same with parentbased_traceidratio at 0.01
 *
 * Each repetition runs every state once, in an order rotated from one repetition to the next;
 * medians are reported. `bun run bench -- --only OTEL` runs this scenario alone.
 */
import { join } from "node:path";
import { startOtlpReceiver } from "../../test/helpers/otlp-receiver.ts";
import {
  fmt,
  type MeasuredRun,
  measuredSync,
  REPS,
  rows,
  S1,
  S6,
  sec,
  sections,
  state,
  table,
  withSim,
} from "../lib/context.ts";
import { BINARY, brokerNames, deleteBrokerNames, log, median, ROOT, sh } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

const WITHOUT_TRACING = join(ROOT, "dist/item-sync-without-tracing");

interface Variant {
  id: "absent" | "off" | "on-100" | "on-1";
  label: string;
  ratio?: number;
}

const VARIANTS: Variant[] = [
  { id: "absent", label: "built without tracing" },
  { id: "off", label: "tracing off (no endpoint)" },
  { id: "on-100", label: "on, 100 % sampled", ratio: 1 },
  { id: "on-1", label: "on, 1 % sampled", ratio: 0.01 },
];

/** Repetition i runs the variants starting at i: each state goes first, second, … in turn. */
const rotated = (i: number) => VARIANTS.map((_, k) => VARIANTS[(i + k) % VARIANTS.length] as Variant);

/** What the binary needs to trace to `url`: the batch processor sized not to drop a sync's spans. */
function otelEnv(url: string, ratio: number): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
    OTEL_BSP_SCHEDULE_DELAY: "1000",
    OTEL_BSP_MAX_QUEUE_SIZE: "200000",
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2048",
  };
}

interface S1Run extends MeasuredRun {
  variant: Variant["id"];
  exports: number;
  exportedBytes: number;
}

interface S6Run {
  variant: Variant["id"];
  msgsPerSec: number;
  cpuUsPerMsg: number;
  exports: number;
  exportedBytes: number;
}

async function otelCost() {
  log(`OTEL: building ${WITHOUT_TRACING}`);
  await sh(["bun", "scripts/build.ts", "--without-tracing", "--outfile", WITHOUT_TRACING]);
  const receiver = startOtlpReceiver();
  const received = () => {
    const r = receiver.requests();
    return { exports: r.length, exportedBytes: r.reduce((n, x) => n + x.bytes, 0) };
  };
  try {
    // ---- S1
    log(`OTEL S1: ${S1.projects} projects, ${S1.latencyMs} ms, 4 states × ${REPS}`);
    const s1: S1Run[] = await withSim({ projects: S1.projects, latencyMs: S1.latencyMs }, async (sim) => {
      const out: S1Run[] = [];
      for (let i = 0; i < REPS; i++) {
        for (const v of rotated(i)) {
          receiver.clear();
          const env = v.ratio === undefined ? {} : otelEnv(receiver.url, v.ratio);
          const binary = v.id === "absent" ? WITHOUT_TRACING : BINARY;
          const run = await measuredSync(
            sim,
            `otel-s1-${v.id}`,
            { GITLAB_CONCURRENCY: String(S1.concurrency), ...env },
            S1.projects,
            [binary, "sync", "--fresh"],
          );
          out.push({ ...run, variant: v.id, ...received() });
          log(
            `  OTEL S1 ${v.id} run ${i + 1}: ${sec(run.wallMs)}, ${fmt(received().exportedBytes / 1024)} KiB exported`,
          );
        }
      }
      return out;
    });

    // ---- S6
    log(`OTEL S6: ${S6.messages} confirmed publishes, 4 states × ${REPS}`);
    const s6: S6Run[] = [];
    for (let i = 0; i < REPS; i++) {
      for (const v of rotated(i)) {
        receiver.clear();
        const names = brokerNames(`otel-s6-${v.id}`);
        const queue = names.AMQP_UPDATE_QUEUE;
        try {
          const env: Record<string, string> = { ...process.env } as Record<string, string>;
          if (v.id === "absent") env.BENCH_OTEL = "absent";
          if (v.ratio !== undefined) {
            env.BENCH_OTEL = "on";
            env.BENCH_OTEL_URL = receiver.url;
            env.BENCH_OTEL_RATIO = String(v.ratio);
          }
          const out = await run(
            [
              "bun",
              "--preload",
              join(ROOT, "bench/lib/otel-preload.ts"),
              join(ROOT, "bench/s6-publish.ts"),
              ...["--lib", "item-sync", "--url", state.rabbit.url, "--exchange", names.AMQP_EXCHANGE],
              ...["--queue", queue, "--count", String(S6.messages), "--window", String(S6.window)],
            ],
            env,
          );
          const r = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
            msgsPerSec: number;
            cpuUsPerMsg: number;
          };
          s6.push({ variant: v.id, msgsPerSec: r.msgsPerSec, cpuUsPerMsg: r.cpuUsPerMsg, ...received() });
          log(`  OTEL S6 ${v.id} run ${i + 1}: ${fmt(r.msgsPerSec)} msgs/s`);
        } finally {
          await deleteBrokerNames(state.rabbit.url, names, [queue]);
        }
      }
    }
    report(s1, s6);
  } finally {
    await receiver.stop();
  }
}

/** Runs a command with its own environment; throws with its output when it fails. */
async function run(cmd: string[], env: Record<string, string>): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}:\n${out}\n${err}`);
  return out;
}

function report(s1: S1Run[], s6: S6Run[]) {
  const s1Of = (id: Variant["id"]) => s1.filter((r) => r.variant === id);
  const s6Of = (id: Variant["id"]) => s6.filter((r) => r.variant === id);
  const wall = (id: Variant["id"]) => median(s1Of(id).map((r) => r.wallMs));
  const cpu = (id: Variant["id"]) => median(s1Of(id).map((r) => r.cpuMs));
  const rate = (id: Variant["id"]) => median(s6Of(id).map((r) => r.msgsPerSec));
  const pct = (x: number, base: number) => `${x >= base ? "+" : ""}${fmt((100 * (x - base)) / base, 1)} %`;
  const base = { wall: wall("absent"), cpu: cpu("absent"), rate: rate("absent") };

  rows.push({
    id: "OTEL",
    scenario: "tracing cost on S1 (sync wall time) and S6 (publishes/s): absent, off, on at 100 % and 1 %",
    figure:
      `S1 off ${pct(wall("off"), base.wall)}, 100 % ${pct(wall("on-100"), base.wall)}, 1 % ${pct(wall("on-1"), base.wall)}; ` +
      `S6 off ${pct(rate("off"), base.rate)}, 100 % ${pct(rate("on-100"), base.rate)}, 1 % ${pct(rate("on-1"), base.rate)} vs absent`,
    target: "off ≈ absent (within run-to-run spread)",
    verdict: "report",
  });

  const s1Table = table(
    [
      "state",
      "wall (median)",
      "vs absent",
      "item-sync CPU (median)",
      "vs absent",
      "peak RSS (median)",
      "exported (median)",
      "runs (wall)",
    ],
    VARIANTS.map((v) => {
      const runs = s1Of(v.id);
      return [
        v.label,
        sec(wall(v.id)),
        pct(wall(v.id), base.wall),
        sec(cpu(v.id)),
        pct(cpu(v.id), base.cpu),
        `${fmt(median(runs.map((r) => r.maxRssBytes)) / 1024 / 1024)} MB`,
        `${fmt(median(runs.map((r) => r.exportedBytes)) / 1024)} KiB in ${fmt(median(runs.map((r) => r.exports)))} exports`,
        runs.map((r) => sec(r.wallMs)).join(", "),
      ];
    }),
  );
  const s6Table = table(
    [
      "state",
      "msgs/s (median)",
      "vs absent",
      "client CPU per message (median)",
      "exported (median)",
      "runs (msgs/s)",
    ],
    VARIANTS.map((v) => {
      const runs = s6Of(v.id);
      return [
        v.label,
        fmt(rate(v.id)),
        pct(rate(v.id), base.rate),
        `${fmt(median(runs.map((r) => r.cpuUsPerMsg)), 1)} µs`,
        `${fmt(median(runs.map((r) => r.exportedBytes)) / 1024)} KiB`,
        runs.map((r) => fmt(r.msgsPerSec)).join(", "),
      ];
    }),
  );
  // shown with --only too, where BENCHMARKS.md is not rewritten
  log(`OTEL medians:\nS1\n${s1Table}\nS6\n${s6Table}`);
  sections.push(`### OTEL — what tracing costs (S1 and S6)

Four states of the same code, each run once per repetition in a rotated order (${REPS} repetitions, medians):
**built without tracing** — \`scripts/build.ts --without-tracing\` replaces src/lib/tracing.ts, the one module
every instrumented file goes through, with pass-through functions and leaves the SDK out (for S6 the same stub is
preloaded into the publishing worker); **off** — the shipped binary without an OTEL endpoint (the SDK is never
imported, each helper returns at once); **on** — an OTLP/HTTP receiver in the bench process, protobuf,
\`parentbased_traceidratio\` at 1 and at 0.01, the batch processor sized not to drop spans
(\`OTEL_BSP_MAX_QUEUE_SIZE=200000\`, a 1 s delay). A sync is one trace: at 1 % a run is almost always
sampled out, so its column shows what non-recorded spans and the propagated \`traceparent\` cost, and an
occasional run exports everything. "exported" is what the receiver got during the run.

**S1** (${fmt(S1.projects)} projects, ${S1.latencyMs} ms per request, concurrency ${S1.concurrency}; \`item-sync sync --fresh\`, wall time
process start to exit, the final flush of the spans included):

${s1Table}

**S6** (${fmt(S6.messages)} confirmed persistent publishes, ${fmt(S6.window)} outstanding; bench/s6-publish.ts with the product's
publisher; each publish a producer span and a \`traceparent\` header when on):

${s6Table}`);
}

const scenario: BenchScenario = { id: "OTEL", run: otelCost };
export default scenario;
