/**
 * `bun run bench`: the performance scenarios of bench/scenarios/ (one file each, listed in
 * bench/scenarios/index.ts), against the GitLab simulator in a separate process
 * (bench/sim-server.ts) and a private RabbitMQ node started here, with the compiled binary
 * dist/item-sync. Each scenario is repeated and its median reported; the figures are written to
 * BENCHMARKS.md, whose first line is the commit they were produced from. Nothing in the report
 * is typed in: every number comes from this run (quoted figures of the replaced system are in
 * the README). A dirty work tree is refused unless --allow-dirty (the report then says dirty).
 *
 *   bun run bench                 everything
 *   bun run bench -- --only S1,S3 a subset (BENCHMARKS.md is then not rewritten unless --write)
 *   BENCH_REPS=1 bun run bench    fewer repetitions (for trying the harness out)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { requireProvenance } from "../scripts/lib/provenance.ts";
import { fmt, loadBefore, notes, REPS, rows, sec, sections, state, table } from "./lib/context.ts";
import { ensureBinary, log, ROOT, sh, startRabbit } from "./lib/harness.ts";
import { SCENARIOS } from "./scenarios/index.ts";

const { provenance, args: argv } = requireProvenance(ROOT, process.argv.slice(2));
const onlyArg = argv.includes("--only") ? (argv[argv.indexOf("--only") + 1] ?? "") : "";
const only = new Set(onlyArg.split(",").filter(Boolean));
const wanted = (id: string) => only.size === 0 || only.has(id);
const writeReport = only.size === 0 || argv.includes("--write");

async function machine() {
  const nproc = (await sh(["nproc"])).trim();
  state.CLK_TCK = Number((await sh(["getconf", "CLK_TCK"])).trim()) || 100;
  const rabbitVersion = (await sh(["bash", "-c", "dpkg-query -W rabbitmq-server 2>/dev/null || true"]))
    .trim()
    .split(/\s+/)[1];
  return {
    nproc,
    memory: `${fmt(totalmem() / 1024 ** 3, 1)} GiB`,
    cpu: cpus()[0]?.model ?? "unknown",
    bun: Bun.version,
    rabbit: rabbitVersion || "unknown",
  };
}

const started = performance.now();
const startedAt = new Date();
const binaryState = await ensureBinary();
const host = await machine();
log(`machine: ${host.nproc} cores, ${host.memory}; starting a private RabbitMQ`);
state.rabbit = await startRabbit();
let failure: unknown;
try {
  for (const scenario of SCENARIOS) {
    const ids = [scenario.id, ...(scenario.also ?? [])];
    if (!ids.some(wanted) && !(scenario.feeds ?? []).some(wanted)) continue;
    loadBefore.push(
      `${scenario.id}: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    );
    try {
      await scenario.run();
    } catch (err) {
      failure ??= err;
      log(`${scenario.id} failed: ${err instanceof Error ? err.stack : String(err)}`);
      notes.push(`${scenario.id} failed in this run: ${String(err).split("\n")[0]}`);
    }
  }
} finally {
  await state.rabbit.stop();
}
const totalMs = performance.now() - started;
log(`done in ${sec(totalMs)}`);

const summary = table(
  ["id", "scenario", "figure (median)", "target", "result"],
  rows.map((r) => [r.id, r.scenario, r.figure, r.target, r.verdict === "MISSED" ? "**MISSED**" : r.verdict]),
);
console.log(summary);

if (writeReport) {
  const report = `# Benchmarks

${provenance.line}

Written by \`bun run bench\` (bench/run.ts, one file per scenario in bench/scenarios/) — every figure below was
measured in that run; edit the harness, not this file. Method and quoted sources: docs/testing.md, section "Benchmarks".

- **Date**: ${startedAt.toISOString()}
- **Command**: \`bun run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}\` (repetitions: ${REPS} per scenario, median reported${REPS < 3 ? "; fewer than the issue's 3" : ""}), total ${sec(totalMs)}
- **Machine**: ${host.nproc} cores (\`nproc\`), ${host.memory} memory, ${host.cpu}
- **Software**: Bun ${host.bun}, RabbitMQ ${host.rabbit} (a private node on the same machine),
  \`dist/item-sync\` ${binaryState} (SQLite), the GitLab simulator (test/sim/gitlab.ts via bench/sim-server.ts) in its own process.
  item-sync, the simulator and the broker share the ${host.nproc} cores.
- **Load average** (1/5/15 min) as each scenario started — anything well above what this run itself adds
  is other work on the machine and inflates the figures: ${loadBefore.join("; ")}

## Results

${summary}

${notes.length ? `Notes from this run:\n${notes.map((n) => `- ${n}`).join("\n")}\n` : ""}
## Details

${sections.join("\n\n")}
`;
  writeFileSync(join(ROOT, "BENCHMARKS.md"), report);
  log("BENCHMARKS.md written");
}
if (failure) process.exitCode = 1;
process.exit(process.exitCode ?? 0);
