/**
 * The sweep of dead executions, on both databases: an execution whose heartbeat is older than the
 * lease is marked FAILED by the sweeper alone (no launch needed), with its warning line; a live
 * one (heartbeat fresh) is left running; stop() ends the sweeping.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createJobRepository, type JobRepository } from "../../src/batch/repository.ts";
import { startSweeper } from "../../src/batch/sweeper.ts";
import { zeroCounts } from "../../src/batch/types.ts";
import { createLogger } from "../../src/lib/log.ts";
import { waitFor } from "../helpers/binary.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

const LEASE_MS = 300;

for (const dialect of DIALECTS) {
  describe(`the sweeper on ${dialect}`, () => {
    let t: TestDatabase;
    let repo: JobRepository;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      repo = createJobRepository(t.db, { leaseMs: LEASE_MS });
    });
    afterAll(() => t.drop());

    const started = async (fresh: boolean) => {
      const launched = await repo.launch({
        jobName: "itemSynchronizationJob",
        stepName: "itemSynchronizationStep",
        trigger: "api",
        fresh,
      });
      if (launched.kind !== "started") throw new Error(`expected a start, got ${launched.kind}`);
      await repo.markStarted(launched.execution.id);
      return launched.execution.id;
    };

    test("a dead execution is marked FAILED by the sweep itself; a beating one is left running", async () => {
      const lines: string[] = [];
      const logger = createLogger("info", {}, (line) => lines.push(line));
      const dead = await started(true);
      await Bun.sleep(LEASE_MS * 2); // its heartbeat is now older than the lease
      const sweeper = startSweeper({ repository: repo, leaseMs: LEASE_MS, logger });
      try {
        await waitFor(
          "the dead execution FAILED",
          async () => (await repo.get(dead))?.status === "FAILED",
          10_000,
        );
        expect(
          lines.some((l) => l.includes("marked dead executions FAILED") && l.includes(String(dead))),
        ).toBe(true);

        // a live execution: heartbeats keep coming, sweeps keep running, it stays STARTED
        const live = await started(false);
        const beat = setInterval(() => void repo.heartbeat(live, zeroCounts(), new Date()), LEASE_MS / 4);
        try {
          const sweepsBefore = lines.length;
          await Bun.sleep(LEASE_MS * 4); // several sweeps (every lease/2)
          expect((await repo.get(live))?.status).toBe("STARTED");
          expect(lines.length).toBe(sweepsBefore); // nothing to report
        } finally {
          clearInterval(beat);
        }
      } finally {
        sweeper.stop();
      }
    });

    test("after stop() no sweep runs", async () => {
      const logger = createLogger("info", {}, () => {});
      const sweeper = startSweeper({ repository: repo, leaseMs: LEASE_MS, logger });
      sweeper.stop();
      const running = (await repo.list({ limit: 50 })).find((e) => e.status === "STARTED");
      const id = running?.id ?? (await started(false));
      await Bun.sleep(LEASE_MS * 3);
      // (the first sweep, started with the sweeper, may have run; none after stop)
      expect((await repo.get(id))?.status).toBe("STARTED");
    });
  });
}
