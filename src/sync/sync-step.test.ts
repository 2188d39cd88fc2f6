/** Unit tests of the sync step's logic with fakes for GitLab and the publisher. */
import { describe, expect, test } from "bun:test";
import { createLeaseFence, LeaseLostError } from "../batch/fence.ts";
import type { StepContext } from "../batch/runner.ts";
import { type JobExecution, zeroCounts } from "../batch/types.ts";
import type { SeenStore } from "../items/seen-store.ts";
import { silentLogger } from "../lib/log.ts";
import type { SyncKnown } from "./incremental.ts";
import {
  runSyncStep,
  type SyncCheckpoint,
  type SyncGitlab,
  type SyncPage,
  type SyncPublish,
  type SyncStepOptions,
} from "./sync-step.ts";

function fakeGitlab(
  ids: number[],
  perPage: number,
  opts: {
    unmonitored?: Set<number>;
    /** our hook there, but disabled by GitLab after failed deliveries */
    disabled?: Set<number>;
    failing?: Set<number>;
    hookMs?: number;
    /** called as each hook check starts, with how many have started */
    onHook?: (started: number) => void;
  } = {},
) {
  const pagesServed: number[] = [];
  let hooksStarted = 0;
  const gitlab: SyncGitlab = {
    checkAccess: async () => {},
    projectSource: () => ({
      async *pages({ from, signal }: { from?: SyncCheckpoint; signal?: AbortSignal } = {}) {
        const remaining = from ? ids.filter((id) => id > from.lastProjectId) : ids;
        const first = from ? from.page + 1 : 1;
        for (let i = 0; i * perPage < remaining.length; i++) {
          if (signal?.aborted) throw signal.reason;
          const projects = remaining
            .slice(i * perPage, (i + 1) * perPage)
            .map((id) => ({ id, path: `g/p${id}` }));
          const last = (i + 1) * perPage >= remaining.length;
          pagesServed.push(first + i);
          const page: SyncPage = {
            page: first + i,
            projects,
            checkpoint: { page: first + i, lastProjectId: projects[projects.length - 1]?.id ?? 0 },
            last,
            total: ids.length,
          };
          yield page;
        }
      },
    }),
    checkHook: async (id) => {
      opts.onHook?.(++hooksStarted);
      await Bun.sleep(opts.hookMs ?? 0);
      if (opts.failing?.has(id)) throw new Error(`502 Bad Gateway for project ${id}`);
      if (opts.disabled?.has(id)) return { state: "disabled", legacy: false };
      return { state: opts.unmonitored?.has(id) ? "missing" : "ok", legacy: false };
    },
  };
  return { gitlab, pagesServed };
}

function context(restored: Record<string, unknown> = {}, params: Record<string, string> = {}) {
  const controller = new AbortController();
  /** Checkpoints: saves that moved the checkpoint. `all` also has the saves of the total alone. */
  const saved: Record<string, unknown>[] = [];
  const all: Record<string, unknown>[] = [];
  let last = JSON.stringify(restored.checkpoint);
  const ctx: StepContext = {
    execution: { id: 7, jobInstanceId: 3, params } as unknown as JobExecution,
    restored,
    counts: zeroCounts(),
    signal: controller.signal,
    logger: silentLogger,
    fence: {
      owner: { executionId: 7, leaseMs: 60_000 },
      assertOwned() {
        if (lease.lost) throw new LeaseLostError(7, "lost in the test");
      },
      async persist(write) {
        this.assertOwned();
        return write();
      },
    },
    async saveCheckpoint(c) {
      all.push(structuredClone(c));
      if (JSON.stringify(c.checkpoint) !== last) saved.push(structuredClone(c));
      last = JSON.stringify(c.checkpoint);
    },
  };
  const lease = { lost: false };
  return { ctx, controller, saved, all, lease };
}

function recordingPublisher(failOn?: (type: string, id: number) => boolean) {
  const published: string[] = [];
  const publish: SyncPublish = async (type, executionId, project, gate) => {
    await Bun.sleep(0);
    if (failOn?.(type, project.id)) throw new Error("BROKER_UNAVAILABLE: broker lost for longer than 120 s");
    gate?.(); // as the real publisher: right before the send
    published.push(`${executionId}:${type}:${project.id}`);
  };
  return { publish, published };
}

/** An in-memory SeenStore over a set of item ids. */
function memorySeen(itemIds: number[] = []) {
  const seen = new Map<number, Set<number>>();
  const store: SeenStore = {
    keepOnly: async (instance) => {
      for (const k of [...seen.keys()]) if (k !== instance) seen.delete(k);
    },
    record: async (instance, ids) => {
      const set = seen.get(instance) ?? new Set<number>();
      for (const id of ids) set.add(id);
      seen.set(instance, set);
    },
    itemCount: async () => itemIds.length,
    countUnseen: async (instance) => itemIds.filter((id) => !seen.get(instance)?.has(id)).length,
    unseen: async (instance, after, limit) =>
      itemIds
        .filter((id) => id > after && !seen.get(instance)?.has(id))
        .sort((a, b) => a - b)
        .slice(0, limit)
        .map((projectId) => ({ projectId, projectPath: `g/p${projectId}` })),
    clear: async (instance) => {
      seen.delete(instance);
    },
  };
  return { store, seen };
}

/** The step's options with the defaults most tests use. */
function options(
  gitlab: SyncGitlab,
  publish: SyncPublish,
  extra: Partial<SyncStepOptions> = {},
): SyncStepOptions {
  return {
    gitlab,
    publish,
    skipLimit: 0,
    perPage: 10,
    seen: memorySeen().store,
    deleteMaxFraction: 0.1,
    ...extra,
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("sync step", () => {
  test("publishes update-item for every project and monitor-item for unmonitored ones; checkpoints in page order", async () => {
    const { gitlab } = fakeGitlab(range(45), 10, { unmonitored: new Set([3, 17, 44]) });
    const { publish, published } = recordingPublisher();
    const { ctx, saved } = context();
    const outcome = await runSyncStep(ctx, options(gitlab, publish));
    expect(outcome.status).toBe("COMPLETED");
    expect(published.filter((m) => m.includes("update-item")).length).toBe(45);
    expect(published.filter((m) => m.includes("monitor-item")).sort()).toEqual(
      ["7:monitor-item:17", "7:monitor-item:3", "7:monitor-item:44"].sort(),
    );
    expect(ctx.counts).toEqual({
      read: 45,
      hooksChecked: 45,
      monitorPublished: 3,
      updatePublished: 45,
      deletePublished: 0,
      skipped: 0,
      unchanged: 0,
      hooksAdopted: 0,
    });
    expect(saved.map((s) => (s.checkpoint as SyncCheckpoint).page)).toEqual([1, 2, 3, 4, 5]);
    expect(saved.at(-1)?.scanComplete).toBe(true);
  });

  test("a hook GitLab disabled counts as not monitored: monitor-item is published, and the page records it as disabled, not verified", async () => {
    const { gitlab } = fakeGitlab(range(20), 10, { unmonitored: new Set([4]), disabled: new Set([7, 15]) });
    const { publish, published } = recordingPublisher();
    const { ctx } = context();
    const recorded: { verified: number[]; problems: unknown[] }[] = [];
    const listed: number[] = [];
    const known: SyncKnown = {
      lookup: async () => new Map(),
      recordListed: async (projects) => {
        // rows exist before any message of the page is published
        expect(published.filter((m) => projects.some((p) => m.endsWith(`:${p.id}`)))).toEqual([]);
        listed.push(...projects.map((p) => p.id));
      },
      recordPage: async (_projects, verified, _at, problems) => {
        recorded.push({ verified: [...verified], problems: [...(problems ?? [])] });
      },
      lastCompletedStart: async () => null,
    };
    expect((await runSyncStep(ctx, options(gitlab, publish, { known }))).status).toBe("COMPLETED");
    expect(published.filter((m) => m.includes("monitor-item")).sort()).toEqual(
      ["7:monitor-item:15", "7:monitor-item:4", "7:monitor-item:7"].sort(),
    );
    expect(listed.sort((a, b) => a - b)).toEqual(range(20));
    const problems = recorded.flatMap((r) => r.problems);
    expect(problems).toContainEqual({ projectId: 7, state: "disabled" });
    expect(problems).toContainEqual({ projectId: 15, state: "disabled" });
    expect(problems).toContainEqual({ projectId: 4, state: "missing" });
    expect(recorded.flatMap((r) => r.verified)).not.toContain(7);
    expect(recorded.flatMap((r) => r.verified).length).toBe(17);
  });

  test("resumes after the checkpoint without repeating checkpointed projects", async () => {
    const { gitlab } = fakeGitlab(range(45), 10);
    const { publish, published } = recordingPublisher();
    const { ctx } = context({ checkpoint: { page: 2, lastProjectId: 20 }, skipped: [] });
    expect((await runSyncStep(ctx, options(gitlab, publish))).status).toBe("COMPLETED");
    expect(published.filter((m) => m.includes("update-item")).map((m) => Number(m.split(":")[2]))).toEqual(
      range(45).filter((id) => id > 20),
    );
  });

  test("a failing hook check skips the project but still publishes its update-item; past the limit the step fails", async () => {
    const { gitlab } = fakeGitlab(range(30), 10, { failing: new Set([5, 6]) });
    const { publish, published } = recordingPublisher();
    const { ctx, saved } = context();
    expect((await runSyncStep(ctx, options(gitlab, publish, { skipLimit: 2 }))).status).toBe("COMPLETED");
    expect(ctx.counts.skipped).toBe(2);
    expect(published).toContain("7:update-item:5");
    expect((saved.at(-1)!.skipped as { projectId: number }[]).map((s) => s.projectId)).toEqual([5, 6]);

    const second = context();
    const failing = fakeGitlab(range(30), 10, { failing: new Set([5, 6, 7]) });
    await expect(runSyncStep(second.ctx, options(failing.gitlab, publish, { skipLimit: 2 }))).rejects.toThrow(
      /more than SYNC_SKIP_LIMIT=2 projects failed/,
    );
  });

  test("a publish that fails for good fails the step, after the pages in flight settle, with no checkpoint past it", async () => {
    const { gitlab } = fakeGitlab(range(50), 10);
    const { publish } = recordingPublisher((type, id) => type === "update-item" && id === 25);
    const { ctx, saved } = context();
    await expect(runSyncStep(ctx, options(gitlab, publish, { skipLimit: 100 }))).rejects.toThrow(
      /BROKER_UNAVAILABLE/,
    );
    const pages = saved.map((s) => (s.checkpoint as SyncCheckpoint).page);
    expect(Math.max(0, ...pages)).toBeLessThan(3); // page 3 holds project 25
  });

  test("once a project fails for good no other project starts: the queued ones of the pages in flight are left", async () => {
    let hooksStarted = 0;
    const { gitlab } = fakeGitlab(range(100), 10, { onHook: (n) => (hooksStarted = n) });
    const { publish } = recordingPublisher((type, id) => type === "update-item" && id === 5);
    const { ctx } = context();
    await expect(
      runSyncStep(ctx, options(gitlab, publish, { skipLimit: 100, projectConcurrency: 2, pagesInFlight: 3 })),
    ).rejects.toThrow(/BROKER_UNAVAILABLE/);
    // three pages (30 projects) were read and queued; only those started before project 5
    // failed, and the one beside it, were worked on
    expect(ctx.counts.read).toBeGreaterThanOrEqual(30);
    expect(hooksStarted).toBeLessThanOrEqual(5 + 2);
  });

  test("a stop ends STOPPED after checkpointing the pages in flight; a finished scan is COMPLETED even if stopped late", async () => {
    const { gitlab } = fakeGitlab(range(100), 10);
    const { publish } = recordingPublisher();
    const { ctx, controller, saved } = context();
    const original = ctx.saveCheckpoint;
    ctx.saveCheckpoint = async (c) => {
      await original(c);
      if (saved.length === 2) controller.abort("stop");
    };
    const outcome = await runSyncStep(ctx, options(gitlab, publish, { pagesInFlight: 2 }));
    expect(outcome.status).toBe("STOPPED");
    const pages = saved.map((s) => (s.checkpoint as SyncCheckpoint).page);
    expect(pages).toEqual([...pages].sort((a, b) => a - b));
    expect(ctx.counts.updatePublished).toBe(ctx.counts.read); // nothing read was left unpublished
    expect(pages.length).toBeLessThan(10);
  });

  test("after a complete scan, items not seen get delete-item; within the guard's bound", async () => {
    const { gitlab } = fakeGitlab(range(95), 10);
    const { store, seen } = memorySeen([...range(100), 250]);
    const { publish, published } = recordingPublisher();
    const { ctx } = context();
    const outcome = await runSyncStep(ctx, options(gitlab, publish, { seen: store }));
    expect(outcome.status).toBe("COMPLETED");
    expect(published.filter((m) => m.includes("delete-item")).sort()).toEqual(
      [96, 97, 98, 99, 100, 250].map((id) => `7:delete-item:${id}`).sort(),
    );
    expect(ctx.counts.deletePublished).toBe(6);
    expect(seen.size).toBe(0); // the seen set is cleared once the execution completes
  });

  test("the mass-deletion guard: too many unseen → FAILED with the numbers and how to allow it; allowed → deleted", async () => {
    const { gitlab } = fakeGitlab(range(50), 10);
    const items = range(100);
    const { publish, published } = recordingPublisher();
    const refused = context();
    await expect(
      runSyncStep(refused.ctx, options(gitlab, publish, { seen: memorySeen(items).store })),
    ).rejects.toThrow(
      /50 of 100 items \(50\.0%\) were not seen.*SYNC_DELETE_MAX_FRACTION=0\.1.*allowMassDelete=true.*--allow-mass-delete/,
    );
    expect(published.some((m) => m.includes("delete-item"))).toBe(false);

    // the resumed execution, launched with allowMassDelete, goes straight to the deletions
    const allowed = context({ ...refused.saved.at(-1) }, { allowMassDelete: "true" });
    const store = memorySeen(items);
    await store.store.record(3, range(50));
    const outcome = await runSyncStep(allowed.ctx, options(gitlab, publish, { seen: store.store }));
    expect(outcome.status).toBe("COMPLETED");
    expect(allowed.ctx.counts.read).toBe(0);
    expect(allowed.ctx.counts.deletePublished).toBe(50);
  });

  test("SYNC_DELETE_ENABLED=false: no delete-item, COMPLETED, and the step context and exit message say the pass was skipped", async () => {
    const { gitlab } = fakeGitlab(range(50), 10);
    const { store, seen } = memorySeen(range(100));
    const { publish, published } = recordingPublisher();
    const { ctx, all } = context();
    const outcome = await runSyncStep(ctx, options(gitlab, publish, { seen: store, deleteEnabled: false }));
    expect(outcome.status).toBe("COMPLETED"); // 50 % unseen, yet no mass-deletion refusal either
    expect(outcome.exitMessage).toContain("SYNC_DELETE_ENABLED=false");
    expect(published.some((m) => m.includes("delete-item"))).toBe(false);
    expect(ctx.counts.deletePublished).toBe(0);
    expect(all.at(-1)).toMatchObject({
      scanComplete: true,
      deletePass: "skipped",
      deletePassReason: "deletion pass skipped: SYNC_DELETE_ENABLED=false",
      unseen: 50,
    });
    expect(seen.size).toBe(0);
  });

  test("a scan cut short publishes no delete-item", async () => {
    const { gitlab } = fakeGitlab(range(100), 10);
    const { publish, published } = recordingPublisher();
    const { ctx, controller, saved } = context();
    const original = ctx.saveCheckpoint;
    ctx.saveCheckpoint = async (c) => {
      await original(c);
      if (saved.length === 3) controller.abort("stop");
    };
    const outcome = await runSyncStep(
      ctx,
      options(gitlab, publish, {
        pagesInFlight: 1,
        seen: memorySeen(range(200)).store,
        deleteMaxFraction: 1,
      }),
    );
    expect(outcome.status).toBe("STOPPED");
    expect(published.some((m) => m.includes("delete-item"))).toBe(false);
  });

  test("tells the runner the total GitLab gave, for the ETA, and saves it with the first page, before any checkpoint", async () => {
    const { gitlab } = fakeGitlab(range(30), 10);
    const { publish } = recordingPublisher();
    const totals: [number | null, number | undefined][] = [];
    const fresh = context();
    fresh.ctx.setTotal = (n, before) => totals.push([n, before]);
    await runSyncStep(fresh.ctx, options(gitlab, publish));
    expect(totals).toEqual([[30, 0]]);
    // the first save is the total alone: no checkpoint yet, nothing handled
    expect(fresh.all[0]).toMatchObject({ total: 30, handledThrough: 0, scanComplete: false });
    expect(fresh.all[0]?.checkpoint).toBeUndefined();
    expect(fresh.saved.at(-1)).toMatchObject({ total: 30, handledBefore: 0, handledThrough: 30 });
  });

  test("a resumed run keeps its predecessor's total when its first page gives none, and counts what was handled before", async () => {
    const { gitlab } = fakeGitlab(range(30), 10);
    const noTotal: SyncGitlab = {
      ...gitlab,
      projectSource: (...args) => ({
        async *pages(o) {
          for await (const page of gitlab.projectSource(...args).pages(o)) yield { ...page, total: null };
        },
      }),
    };
    const { publish } = recordingPublisher();
    const totals: [number | null, number | undefined][] = [];
    const resumed = context({
      checkpoint: { page: 1, lastProjectId: 10 },
      total: 30,
      handledBefore: 0,
      handledThrough: 10,
    });
    resumed.ctx.setTotal = (n, before) => totals.push([n, before]);
    await runSyncStep(resumed.ctx, options(noTotal, publish));
    expect(totals.at(-1)).toEqual([30, 10]);
    expect(resumed.all[0]).toMatchObject({
      checkpoint: { page: 1, lastProjectId: 10 },
      total: 30,
      handledBefore: 10,
      handledThrough: 10,
    });
    expect(resumed.saved.at(-1)).toMatchObject({ total: 30, handledBefore: 10, handledThrough: 30 });
    expect(resumed.ctx.counts.updatePublished).toBe(20);
  });

  test("a stop leaves projects not yet started to the resumed run: no checkpoint past them, no waiting for them", async () => {
    const { ctx, controller, saved } = context();
    // The stop comes as the 10th hook check starts: by then every page was read (the fake
    // listing answers at once, a hook check takes a timer's turn), 10 projects were started.
    const { gitlab } = fakeGitlab(range(300), 100, {
      hookMs: 1,
      onHook: (started) => {
        if (started === 10) controller.abort("stop");
      },
    });
    const { publish, published } = recordingPublisher();
    const outcome = await runSyncStep(ctx, options(gitlab, publish, { perPage: 100, projectConcurrency: 4 }));
    expect(outcome.status).toBe("STOPPED");
    // every page was in flight, but only the projects started before the stop were worked on
    expect(ctx.counts.read).toBe(300);
    expect(ctx.counts.hooksChecked).toBe(10);
    expect(ctx.counts.updatePublished).toBe(10);
    expect(published.length).toBe(10);
    expect(saved.length).toBe(0); // page 1 was not finished: the resumed run starts from the top
  });

  test("a lost lease stops publishing and seen-set writes at once, in flight or not: the step fails with LeaseLostError", async () => {
    const { gitlab } = fakeGitlab(range(300), 100, { hookMs: 1 });
    const { publish, published } = recordingPublisher();
    const { store } = memorySeen();
    const writes: string[] = [];
    const seen: SeenStore = {
      ...store,
      record: async (instance, ids, owner) => {
        writes.push(`record ${ids.length} as ${owner?.executionId}`);
        return store.record(instance, ids);
      },
    };
    const { ctx, lease } = context();
    let atLoss = -1;
    const loseAfter = (n: number) => {
      const timer = setInterval(() => {
        if (published.length < n) return;
        clearInterval(timer);
        lease.lost = true;
        atLoss = published.length;
      }, 0);
    };
    loseAfter(20);
    const err = await runSyncStep(ctx, options(gitlab, publish, { perPage: 100, seen })).catch((e) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect(atLoss).toBeGreaterThan(0);
    expect(published.length).toBe(atLoss); // not one publish after the loss, though many were in flight
    expect(writes.every((w) => w.endsWith("as 7"))).toBe(true); // every write names its execution
  });
});

describe("incremental scan in the step", () => {
  const T = Date.UTC(2026, 5, 1);
  const HOUR = 3_600_000;
  /** Projects 1–20; project n was last active n hours after T. */
  function listing(): SyncGitlab {
    return {
      ...fakeGitlab([], 10).gitlab,
      projectSource: () => ({
        async *pages() {
          for (const page of [1, 2]) {
            const projects = range(10).map((i) => {
              const id = (page - 1) * 10 + i;
              return {
                id,
                path: `g/p${id}`,
                name: `P${id}`,
                defaultBranch: "main",
                lastActivityAt: new Date(T + id * HOUR).toISOString(),
              };
            });
            yield { page, projects, checkpoint: { page, lastProjectId: page * 10 }, last: page === 2 };
          }
        },
      }),
    };
  }
  const known = (lastStart: Date | null): SyncKnown => ({
    lookup: async (ids) =>
      new Map(
        ids.map((id) => [
          id,
          {
            path: `g/p${id}`,
            name: `P${id}`,
            defaultBranch: "main",
            hookVerifiedAt: new Date(),
            ingested: true,
          },
        ]),
      ),
    recordListed: async () => {},
    recordPage: async () => {},
    lastCompletedStart: async () => lastStart,
  });
  const incremental = (restored: Record<string, unknown> = {}) => {
    const c = context(restored);
    (c.ctx.execution as { mode: string }).mode = "incremental";
    return c;
  };

  test("updates only projects active since the previous COMPLETED start minus the margin; saves the cut-off", async () => {
    const { publish, published } = recordingPublisher();
    const { ctx, saved } = incremental();
    // previous start T+15h, margin 2h: projects 13–20 are recent
    const opts = options(listing(), publish, {
      known: known(new Date(T + 15 * HOUR)),
      activityMarginMs: 2 * HOUR,
      hookTrustMs: 168 * HOUR,
    });
    expect((await runSyncStep(ctx, opts)).status).toBe("COMPLETED");
    expect(published.map((m) => Number(m.split(":")[2])).sort((a, b) => a - b)).toEqual(
      range(8).map((i) => i + 12),
    );
    expect(ctx.counts).toMatchObject({ read: 20, hooksChecked: 0, updatePublished: 8, unchanged: 12 });
    expect(saved[0]?.activitySince).toBe(T + 13 * HOUR);
  });

  test("a resumed execution keeps the cut-off its predecessor saved", async () => {
    const { publish, published } = recordingPublisher();
    const { ctx } = incremental({ activitySince: T + 18 * HOUR });
    const opts = options(listing(), publish, {
      known: known(new Date(T + 5 * HOUR)), // another COMPLETED run since would say 3h: ignored
      activityMarginMs: 2 * HOUR,
      hookTrustMs: 168 * HOUR,
    });
    expect((await runSyncStep(ctx, opts)).status).toBe("COMPLETED");
    expect(published.map((m) => Number(m.split(":")[2])).sort((a, b) => a - b)).toEqual([18, 19, 20]);
  });

  test("a full execution ignores what is known: every hook checked, every project updated", async () => {
    const { publish, published } = recordingPublisher();
    const { ctx } = context();
    (ctx.execution as { mode: string }).mode = "full";
    const opts = options(listing(), publish, {
      known: known(new Date(T + 15 * HOUR)),
      hookTrustMs: 168 * HOUR,
    });
    await runSyncStep(ctx, opts);
    expect(published.length).toBe(20);
    expect(ctx.counts).toMatchObject({ hooksChecked: 20, updatePublished: 20, unchanged: 0 });
  });

  test("the item table's reads and writes wait out a database failover like the seen set's, in either mode", async () => {
    // a connection lost with its primary: each call of the item table fails once, then answers
    const failingOnce = (base: SyncKnown): { known: SyncKnown; failures: string[] } => {
      const failures: string[] = [];
      const once = <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) => {
        let failed = false;
        return async (...args: A): Promise<R> => {
          if (!failed) {
            failed = true;
            failures.push(name);
            throw Object.assign(new Error("terminating connection due to administrator command"), {
              code: "57P01",
            });
          }
          return fn(...args);
        };
      };
      return {
        failures,
        known: {
          lookup: once("lookup", base.lookup),
          recordListed: once("recordListed", base.recordListed),
          recordPage: once("recordPage", base.recordPage),
          lastCompletedStart: once("lastCompletedStart", base.lastCompletedStart),
        },
      };
    };
    for (const mode of ["incremental", "full"] as const) {
      const { publish } = recordingPublisher();
      const { ctx } = context();
      (ctx.execution as { mode: string }).mode = mode;
      // the runner's fence: retries a write while the database is unavailable and the lease holds
      ctx.fence = createLeaseFence({ executionId: 7, leaseMs: 60_000 }, Date.now(), () => {});
      const { known: flaky, failures } = failingOnce(known(new Date(T + 15 * HOUR)));
      const opts = options(listing(), publish, { known: flaky, activityMarginMs: 2 * HOUR, hookTrustMs: 0 });
      expect((await runSyncStep(ctx, opts)).status).toBe("COMPLETED");
      expect(failures.sort()).toEqual(
        mode === "incremental"
          ? ["lastCompletedStart", "lookup", "recordPage"]
          : ["recordListed", "recordPage"],
      );
    }
  });
});
