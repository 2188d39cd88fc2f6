/** A RabbitMQ node lost: a 3-node cluster started by scripts/rabbitmq.sh, the queues' leader SIGKILLed. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { clusterNodeLoss } from "./scenarios/cluster.ts";

test("the node leading the quorum queues SIGKILLed mid-sync and mid-ingest: the same execution COMPLETES, nothing lost or dead-lettered, every row right", async () => {
  const r = await clusterNodeLoss();
  console.log(JSON.stringify(r));
  expect(failedChecks(r)).toEqual([]);
  expect(r.status).toBe("COMPLETED");
  expect(r.lost).toBe(0);
  expect(r.dead).toBe(0);
  expect(r.wrongRows).toBe(0);
}, 240_000);
