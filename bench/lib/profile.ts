/**
 * Reads a Chrome-format .cpuprofile (what `bun --cpu-prof` writes) and sums self time per
 * function and per origin (our code, each dependency, Bun's runtime), for the report.
 *
 * Bun's sampler takes a sample only while JavaScript runs, and the time delta of the first sample
 * after an idle stretch spans that stretch: summing time deltas would charge idle time to whatever
 * woke up first (socket writes, fetch). So self time here is samples × the sampling interval, and
 * the busy time of the JS thread is all samples × the interval; wall time is end − start. The
 * interval is measured from the profile itself: the median time delta between samples (back-to-
 * back samples are most of them; an idle stretch is an outlier the median ignores).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  wallMs: number;
  /** the sampling interval, measured: the median time delta between samples */
  intervalMs: number;
  busyMs: number; // JS thread busy (sampled)
  byOrigin: { origin: string; ms: number; share: number }[];
  topFunctions: { fn: string; origin: string; ms: number; share: number }[];
}

function originOf(url: string): string {
  if (url === "") return "(runtime/native)";
  const nm = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm?.[1]) return nm[1];
  const src = url.match(/\/(src|test|bench)\/(.+)$/);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith("node:") || url.startsWith("bun:") || url.includes("builtin")) return "(bun builtins)";
  return url.split("/").slice(-2).join("/");
}

/** The median of the positive time deltas (µs) between samples, in ms. */
export function measuredInterval(timeDeltas: readonly number[]): number {
  const d = timeDeltas.filter((x) => x > 0).sort((a, b) => a - b);
  if (d.length === 0) throw new Error("a profile without time deltas: no sampling interval to measure");
  const mid = Math.floor(d.length / 2);
  const median = d.length % 2 === 1 ? (d[mid] as number) : ((d[mid - 1] as number) + (d[mid] as number)) / 2;
  return median / 1000;
}

export function summarizeProfile(path: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const intervalMs = measuredInterval(profile.timeDeltas);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  for (const id of profile.samples) selfMs.set(id, (selfMs.get(id) ?? 0) + intervalMs);
  const fns = new Map<string, { fn: string; origin: string; ms: number }>();
  const origins = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const name = node.callFrame.functionName || "(anonymous)";
    if (name === "(idle)") continue;
    busyMs += ms;
    const origin = originOf(node.callFrame.url);
    const key = `${name} ${origin}:${node.callFrame.lineNumber + 1}`;
    const entry = fns.get(key) ?? { fn: `${name} (${node.callFrame.lineNumber + 1})`, origin, ms: 0 };
    entry.ms += ms;
    fns.set(key, entry);
    origins.set(origin, (origins.get(origin) ?? 0) + ms);
  }
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    intervalMs,
    busyMs,
    byOrigin: [...origins]
      .map(([origin, ms]) => ({ origin, ms, share: share(ms) }))
      .sort((a, b) => b.ms - a.ms),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, share: share(f.ms) })),
  };
}
