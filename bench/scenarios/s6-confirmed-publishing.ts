/**
 * S6: confirmed publishing to the local broker, against amqplib.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, REPS, rows, S6, sec, sections, state, table } from "../lib/context.ts";
import { brokerNames, deleteBrokerNames, log, median, queueDepth, ROOT, sh } from "../lib/harness.ts";
import { type ProfileSummary, summarizeProfile } from "../lib/profile.ts";
import type { BenchScenario } from "./types.ts";

async function s6() {
  log(`S6 ${S6.messages} confirmed publishes, item-sync vs amqplib × ${REPS}`);
  type Result = {
    lib: string;
    msgsPerSec: number;
    ms: number;
    confirmP50Ms: number;
    confirmP99Ms: number;
    cpuUsPerMsg: number;
  };
  const results: Result[] = [];
  const inQueue: string[] = [];
  for (let i = 0; i < REPS; i++) {
    for (const lib of i % 2 === 0 ? ["item-sync", "amqplib"] : ["amqplib", "item-sync"]) {
      const names = brokerNames(`s6${lib}`);
      const queue = names.AMQP_UPDATE_QUEUE;
      try {
        const out = await sh([
          "bun",
          join(ROOT, "bench/s6-publish.ts"),
          "--lib",
          lib,
          "--url",
          state.rabbit.url,
          "--exchange",
          names.AMQP_EXCHANGE,
          "--queue",
          queue,
          "--count",
          String(S6.messages),
          "--window",
          String(S6.window),
        ]);
        results.push(JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Result);
        // every confirmed message is in the queue, as the broker counts it before the deletion
        // (a resend after a lost confirm may add one: at least once)
        const queued = await queueDepth(state.rabbit.url, queue);
        inQueue.push(`${lib} run ${i + 1}: ${fmt(queued)}`);
        if (queued < S6.messages)
          throw new Error(
            `S6 ${lib}: ${queued} messages in the queue after ${S6.messages} confirmed publishes`,
          );
        log(`  S6 ${lib} run ${i + 1}: ${fmt(results.at(-1)?.msgsPerSec ?? 0)} msgs/s`);
      } finally {
        await deleteBrokerNames(state.rabbit.url, names, [queue]);
      }
    }
  }
  // Where the product's publish path spends its CPU: one more item-sync run, profiled.
  const profileDir = join(tmpdir(), `item-sync-s6-prof-${Date.now()}`);
  mkdirSync(profileDir, { recursive: true });
  let profile: ProfileSummary | undefined;
  {
    const names = brokerNames("s6prof");
    try {
      await sh([
        "bun",
        "--cpu-prof",
        `--cpu-prof-dir=${profileDir}`,
        join(ROOT, "bench/s6-publish.ts"),
        ...["--lib", "item-sync", "--url", state.rabbit.url, "--exchange", names.AMQP_EXCHANGE],
        ...[
          "--queue",
          names.AMQP_UPDATE_QUEUE,
          "--count",
          String(S6.messages / 2),
          "--window",
          String(S6.window),
        ],
      ]);
      const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
      if (file) profile = summarizeProfile(join(profileDir, file), 6);
    } finally {
      await deleteBrokerNames(state.rabbit.url, names, [names.AMQP_UPDATE_QUEUE]);
      rmSync(profileDir, { recursive: true, force: true });
    }
  }
  const of = (lib: string) => results.filter((r) => r.lib === lib);
  const ours = median(of("item-sync").map((r) => r.msgsPerSec));
  const peer = median(of("amqplib").map((r) => r.msgsPerSec));
  rows.push({
    id: "S6",
    scenario: `${fmt(S6.messages)} persistent messages with confirms, ${fmt(S6.window)} outstanding`,
    figure: `item-sync ${fmt(ours)} msgs/s vs amqplib ${fmt(peer)} msgs/s = ${fmt(ours / peer, 2)}×`,
    target: "≥ 1.0× amqplib",
    verdict: ours >= peer ? "met" : "MISSED",
  });
  sections.push(`### S6 — confirmed publishing to the local broker

Each run is its own process publishing ${fmt(S6.messages)} persistent messages (the contract's properties, mandatory flag)
to a durable queue, keeping ${fmt(S6.window)} publishes awaiting their confirm at all times (bench/s6-publish.ts).
**item-sync** is the product's publisher (src/queue/publisher.ts on rabbitmq-client: confirm, return check,
reconnect handling); **amqplib** is a plain confirm channel with the same window. The order alternates; the
queue is deleted after every run, once the broker's count of the messages in it is at least the publishes
(counted: ${inQueue.join("; ")}). "confirm latency" is publish() call to its confirm.

${table(
  ["run", "library", "msgs/s", "time", "confirm latency p50", "p99", "client CPU per message"],
  results.map((r, i) => [
    Math.floor(i / 2) + 1,
    r.lib,
    fmt(r.msgsPerSec),
    sec(r.ms),
    `${fmt(r.confirmP50Ms, 1)} ms`,
    `${fmt(r.confirmP99Ms, 1)} ms`,
    `${fmt(r.cpuUsPerMsg, 1)} µs`,
  ]),
)}

Medians: item-sync ${fmt(ours)} msgs/s, amqplib ${fmt(peer)} msgs/s → **${fmt(ours / peer, 2)}×**; client CPU per
message ${fmt(median(of("item-sync").map((r) => r.cpuUsPerMsg)), 1)} µs vs ${fmt(median(of("amqplib").map((r) => r.cpuUsPerMsg)), 1)} µs. Both wait on the same broker, on the same ${cpus().length} cores.
What sets the gap: docs/limits.md and docs/testing.md, section "Benchmarks".
${
  profile
    ? `
Where item-sync's publishing CPU goes (one more run of ${fmt(S6.messages / 2)} messages under \`bun --cpu-prof\`, self time,
share of the busy JS thread):

${table(
  ["function", "origin", "share"],
  profile.topFunctions.map((f) => [f.fn, f.origin, `${fmt(100 * f.share, 1)} %`]),
)}
`
    : ""
}`);
}

const scenario: BenchScenario = { id: "S6", run: s6 };
export default scenario;
