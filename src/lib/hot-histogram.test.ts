import { describe, expect, test } from "bun:test";
import { Histogram, Registry } from "prom-client";
import { HotHistogram } from "./hot-histogram.ts";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OBSERVATIONS: Array<[string, number]> = [
  ["update-item", 0.0001],
  ["update-item", 0.005], // on a bound: counted in that bucket (le is inclusive)
  ["update-item", 0.0051],
  ["update-item", 0.3],
  ["update-item", 31], // above every bound: only +Inf
  ["monitor-item", 0.02],
  ["monitor-item", 2.5],
  ["delete-item", 0],
];

function both() {
  const reference = new Registry();
  const hot = new Registry();
  const ref = new Histogram({
    name: "x_seconds",
    help: "h",
    labelNames: ["type"],
    buckets: BUCKETS,
    registers: [reference],
  });
  const fast = new HotHistogram("x_seconds", "h", ["type"] as const, BUCKETS, [hot]);
  return { reference, hot, ref, fast };
}

describe("HotHistogram", () => {
  test("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const { reference, hot, ref, fast } = both();
    for (const [type, v] of OBSERVATIONS) {
      ref.labels({ type }).observe(v);
      fast.labels({ type }).observe(v);
    }
    expect(await hot.metrics()).toBe(await reference.metrics());
    // the JSON form too, but for exemplars (none here: prom-client lists them as null)
    const json = async (r: Registry) =>
      JSON.parse(JSON.stringify(await r.getMetricsAsJSON(), (k, v) => (k === "exemplar" ? undefined : v)));
    expect(await json(hot)).toEqual(await json(reference));
  });

  test("through Registry.merge, and after a reset, as prom-client (bound children keep counting)", async () => {
    const { reference, hot, ref, fast } = both();
    const refChild = ref.labels({ type: "update-item" });
    const hotChild = fast.labels({ type: "update-item" });
    refChild.observe(0.2);
    hotChild.observe(0.2);
    expect(await Registry.merge([hot, new Registry()]).metrics()).toBe(
      await Registry.merge([reference, new Registry()]).metrics(),
    );
    hot.resetMetrics();
    reference.resetMetrics();
    hotChild.observe(0.07);
    ref.labels({ type: "update-item" }).observe(0.07);
    expect(await hot.metrics()).toBe(await reference.metrics());
  });

  test("ignores values that are not finite numbers", async () => {
    const { hot, fast } = both();
    const child = fast.labels({ type: "update-item" });
    child.observe(Number.NaN);
    child.observe(Number.POSITIVE_INFINITY);
    child.observe(1);
    const text = await hot.metrics();
    expect(text).toContain('x_seconds_count{type="update-item"} 1');
    expect(text).toContain('x_seconds_sum{type="update-item"} 1');
  });
});
