import { expect, test } from "bun:test";
import { createKeyedLock } from "./keyed-lock.ts";

test("work on one key runs one at a time; other keys are not held up; a failure does not block the key", async () => {
  const withLock = createKeyedLock<number>();
  const log: string[] = [];
  const step = (key: number, name: string, ms: number, fail = false) =>
    withLock(key, async () => {
      log.push(`start ${name}`);
      await Bun.sleep(ms);
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([step(1, "a", 20, true), step(1, "b", 1), step(2, "c", 1)]);
  expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "fulfilled"]);
  expect(log.indexOf("end a")).toBeLessThan(log.indexOf("start b"));
  expect(log.indexOf("end c")).toBeLessThan(log.indexOf("end a"));
});
