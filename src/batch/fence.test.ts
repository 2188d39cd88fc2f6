/** The lease fence's retry of writes while the database is unavailable (pure logic, real timers). */
import { expect, test } from "bun:test";
import { createLeaseFence } from "./fence.ts";

const unavailable = () => Object.assign(new Error("too many connections for role"), { code: "53300" });

test("a write failing for a whole lease is given up with the database's error, even while heartbeats prove the lease", async () => {
  const fence = createLeaseFence({ executionId: 1, leaseMs: 600 }, Date.now(), () => {});
  const proving = setInterval(() => fence.prove(Date.now()), 25); // heartbeats keep getting through
  let attempts = 0;
  try {
    const write = fence.persist(async () => {
      attempts++;
      throw unavailable();
    });
    await expect(write).rejects.toThrow("too many connections");
  } finally {
    clearInterval(proving);
  }
  expect(attempts).toBeGreaterThan(1); // it was retried first
  expect(fence.lost).toBeNull(); // the lease itself was never lost
});

test("an outage shorter than the lease costs a pause: the write is retried until it succeeds", async () => {
  const fence = createLeaseFence({ executionId: 1, leaseMs: 5_000 }, Date.now(), () => {});
  const proving = setInterval(() => fence.prove(Date.now()), 25);
  let attempts = 0;
  try {
    const value = await fence.persist(async () => {
      attempts++;
      if (attempts < 3) throw unavailable();
      return "written";
    });
    expect(value).toBe("written");
  } finally {
    clearInterval(proving);
  }
  expect(attempts).toBe(3);
});
