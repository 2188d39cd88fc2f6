import { expect, test } from "bun:test";
import { createFairLimiter } from "./fair-limiter.ts";
import { LimiterFullError } from "./limiter.ts";

/** A task that runs until released, recording the order in which tasks started. */
function tasks() {
  const started: string[] = [];
  const releases: (() => void)[] = [];
  const task = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      releases.push(() => resolve(name));
    });
  const releaseAll = async () => {
    while (releases.length > 0) {
      releases.shift()?.();
      await Bun.sleep(0);
    }
  };
  return { started, task, releaseAll };
}

test("waiting tasks start in turn, one key after another", async () => {
  const run = createFairLimiter({ limit: 1, perKey: 100, total: 1000 });
  const { started, task, releaseAll } = tasks();
  const all = [
    run("flood", task("f0")),
    ...Array.from({ length: 5 }, (_, i) => run("flood", task(`f${i + 1}`))),
    run("alice", task("a1")),
    run("bob", task("b1")),
  ];
  await Bun.sleep(0);
  await releaseAll();
  await Promise.all(all);
  // alice and bob wait one round, not behind the whole flood
  expect(started.slice(0, 4)).toEqual(["f0", "f1", "a1", "b1"]);
  expect(started).toHaveLength(8);
});

test("a key may not have more than perKey waiting; others still get in", async () => {
  const run = createFairLimiter({ limit: 1, perKey: 2, total: 1000 });
  const { task, releaseAll } = tasks();
  const first = run("flood", task("f0"));
  const waiting = [run("flood", task("f1")), run("flood", task("f2"))];
  await expect(run("flood", task("f3"))).rejects.toBeInstanceOf(LimiterFullError);
  const alice = run("alice", task("a1"));
  await Bun.sleep(0);
  await releaseAll();
  await Promise.all([first, ...waiting, alice]);
});

test("with the total reached, a newcomer takes the place of the longest queue's newest task", async () => {
  const run = createFairLimiter({ limit: 1, perKey: 10, total: 4 });
  const { started, task, releaseAll } = tasks();
  const running = run("x", task("x0"));
  const flood = Array.from({ length: 4 }, (_, i) =>
    run("flood", task(`f${i + 1}`)).catch((e: unknown) => (e instanceof LimiterFullError ? "shed" : "?")),
  );
  const alice = run("alice", task("a1"));
  await Bun.sleep(0);
  await releaseAll();
  expect(await Promise.all(flood)).toEqual(["f1", "f2", "f3", "shed"]);
  expect(await alice).toBe("a1");
  await running;
  expect(started).toContain("a1");
  // a key with as many waiting as the longest queue is refused instead
  const again = createFairLimiter({ limit: 1, perKey: 10, total: 1 });
  const hold = tasks();
  const r0 = again("a", hold.task("a0"));
  const r1 = again("a", hold.task("a1"));
  await expect(again("a", hold.task("a2"))).rejects.toBeInstanceOf(LimiterFullError);
  await Bun.sleep(0);
  await hold.releaseAll();
  await Promise.all([r0, r1]);
});
