/**
 * Harness calibration: what the simulator (and Bun's fetch client) cost on their own, without
 * item-sync. Sends COUNT `GET /projects/:id/hooks` requests with CONCURRENCY in flight and prints
 * one JSON line: wall time, requests/s, and per-request time percentiles — with a simulated
 * latency L, the p50 minus L is what the simulator and the HTTP stack add to every request.
 *
 *   bun bench/sim-load.ts URL TOKEN COUNT CONCURRENCY PROJECTS
 */
export {};

const [url = "", token = "", countArg = "5000", concArg = "32", projectsArg = "1000"] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concArg);
const projects = Number(projectsArg);

const times: number[] = [];
let next = 0;
let failures = 0;
const lane = async () => {
  while (next < count) {
    const i = next++;
    const t = performance.now();
    const res = await fetch(`${url}/api/v4/projects/${(i % projects) + 1}/hooks?per_page=100`, {
      headers: { "PRIVATE-TOKEN": token },
    });
    await res.arrayBuffer();
    if (!res.ok) failures++;
    times.push(performance.now() - t);
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, lane));
const ms = performance.now() - t0;
times.sort((a, b) => a - b);
const pct = (p: number) =>
  Number((times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(2));
console.log(
  JSON.stringify({
    requests: count,
    concurrency,
    failures,
    ms: Math.round(ms),
    reqPerSec: Math.round((count / ms) * 1000),
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  }),
);
process.exit(0);
