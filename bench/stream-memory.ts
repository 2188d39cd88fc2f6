/**
 * Memory of the project stream: streams 10,000 and then 100,000 projects from the GitLab
 * simulator (its own process) through the real client (a child process per run) and prints the
 * peak RSS of each streamer and their ratio as one JSON line. The bar: 100,000 within
 * 1.2x of 10,000. Also reports the simulator's time for a trivial request, to show it adds no
 * latency of its own. Run: `bun bench/stream-memory.ts`.
 */

interface SimInfo {
  url: string;
  token: string;
  group: string;
}

async function startSim(projects: number): Promise<{ info: SimInfo; stop: () => Promise<void> }> {
  const proc = Bun.spawn(
    ["bun", "test/sim/gitlab.ts", "--projects", String(projects), "--port", "0", "--shared-fraction", "0.05"],
    { stdout: "pipe", stderr: "inherit" },
  );
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("simulator exited before listening");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const info = JSON.parse(text.split("\n")[0] ?? "{}") as SimInfo;
  return {
    info,
    stop: async () => {
      proc.kill();
      await proc.exited;
    },
  };
}

async function trivialRequestMs(info: SimInfo): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const res = await fetch(`${info.url}/api/v4/projects/1`, { headers: { "PRIVATE-TOKEN": info.token } });
    await res.arrayBuffer();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Number((times[Math.floor(times.length / 2)] ?? 0).toFixed(3));
}

async function stream(projects: number) {
  const sim = await startSim(projects);
  try {
    const latency = await trivialRequestMs(sim.info);
    const child = Bun.spawn(
      ["bun", "bench/lib/stream-child.ts", sim.info.url, sim.info.token, sim.info.group],
      {
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    const out = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) throw new Error(`streamer failed for ${projects} projects`);
    const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      projects: number;
      pages: number;
      seconds: number;
      peakRssMb: number;
    };
    if (result.projects !== projects) throw new Error(`streamed ${result.projects} of ${projects}`);
    return { ...result, simTrivialRequestMedianMs: latency };
  } finally {
    await sim.stop();
  }
}

export {};

const small = await stream(10_000);
const large = await stream(100_000);
const ratio = Number((large.peakRssMb / small.peakRssMb).toFixed(3));
console.log(JSON.stringify({ bench: "stream-memory", small, large, ratio, withinBar: ratio <= 1.2 }));
