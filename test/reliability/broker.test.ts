/** Broker faults, the fast variants: a 5 s outage, proxy resets, a deleted queue. The 30 s and 2 min outages run in `bun run soak`. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { brokerOutage, proxyDrops, queueDeleted } from "./scenarios/broker.ts";

test("RabbitMQ stopped 5 s mid-sync: COMPLETED, no project without its update-item", async () => {
  const r = await brokerOutage({ downSeconds: 5 });
  console.log(JSON.stringify(r));
  expect(r.outcome).toBe("COMPLETED");
  expect(r.lost).toBe(0);
  expect(failedChecks(r)).toEqual([]);
}, 180_000);

test("AMQP connection reset 3 times by a TCP proxy: COMPLETED, nothing lost", async () => {
  const r = await proxyDrops({ drops: 3 });
  console.log(JSON.stringify(r));
  expect(r.outcome).toBe("COMPLETED");
  expect(r.lost).toBe(0);
  expect(failedChecks(r)).toEqual([]);
}, 180_000);

test("update queue deleted mid-run: the execution FAILS naming the unroutable message (or completes on the queue it re-declared), the resumed run republishes", async () => {
  const r = await queueDeleted();
  console.log(JSON.stringify({ ...r, done: undefined }));
  if (r.done.status === "COMPLETED") {
    // quorum queues: the publishing channel was closed with the queue and reopened, re-declaring it
    expect(r.recreated).toBe(true);
  } else {
    expect(r.done.status).toBe("FAILED");
    expect(r.done.exitMessage.toLowerCase()).toMatch(/unroutable|returned|no queue/);
  }
  expect(r.outcome).toEndWith("COMPLETED");
  expect(r.lost).toBe(0);
  expect(failedChecks(r)).toEqual([]);
}, 180_000);
