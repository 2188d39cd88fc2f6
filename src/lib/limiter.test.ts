import { expect, test } from "bun:test";
import { createLimiter } from "./limiter.ts";

test("never more than the limit at once, every task run once, in order of arrival", async () => {
  const run = createLimiter(3);
  let active = 0;
  let peak = 0;
  const started: number[] = [];
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      run(async () => {
        started.push(i);
        active++;
        peak = Math.max(peak, active);
        await Bun.sleep(1 + (i % 3));
        active--;
        if (i === 7) throw new Error("one task fails");
      }).catch(() => {}),
    ),
  );
  expect(peak).toBe(3);
  expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
});
