/**
 * sync_project's hook state on both databases: `ok` / `missing` / `disabled`, `hook_state_since`
 * moving only when the state changes, and a scan's finding never overwriting a verification made
 * after the scan looked (monitor-item re-enabling the hook meanwhile). Hook events carry GitLab's
 * `disabled_until`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  addHookEvent,
  events,
  getProject,
  HOOK_EVENTS,
  markHooksVerified,
  recordHookStates,
  recordScanned,
} from "../../src/items/projects.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

const facts = (id: number) => ({
  projectId: id,
  projectPath: `imrt/items/item-${id}`,
  name: `item-${id}`,
  defaultBranch: "main",
});
const T = Date.UTC(2026, 11, 7, 9);
const at = (minutes: number) => new Date(T + minutes * 60_000);

for (const dialect of DIALECTS) {
  describe(`hook state on ${dialect}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
    });
    afterAll(() => t.drop());

    test("a scan records ok, missing and disabled; since moves only on a change", async () => {
      await recordScanned(t.db, [facts(1), facts(2), facts(3)], [1], at(0), [
        { projectId: 2, state: "missing" },
        { projectId: 3, state: "disabled" },
      ]);
      const state = async (id: number) => {
        const p = await getProject(t.db, id);
        return [p?.hookState, p?.hookStateSince?.getTime()];
      };
      expect(await state(1)).toEqual(["ok", at(0).getTime()]);
      expect(await state(2)).toEqual(["missing", at(0).getTime()]);
      expect(await state(3)).toEqual(["disabled", at(0).getTime()]);
      // the next scan finds the same: since stays; project 2's hook created: ok from then on
      await recordScanned(t.db, [facts(1), facts(2), facts(3)], [1], at(10), [
        { projectId: 3, state: "disabled" },
      ]);
      await markHooksVerified(t.db, [2], at(11));
      expect(await state(1)).toEqual(["ok", at(0).getTime()]);
      expect(await state(2)).toEqual(["ok", at(11).getTime()]);
      expect(await state(3)).toEqual(["disabled", at(0).getTime()]);
    });

    test("a scan's finding does not overwrite a verification made after the scan looked", async () => {
      await recordScanned(t.db, [facts(4)], [4], at(0));
      await markHooksVerified(t.db, [4], at(21)); // monitor-item re-enabled it at 21
      await recordHookStates(t.db, [{ projectId: 4, state: "disabled" }], at(20), at(20)); // the scan looked at 20
      expect((await getProject(t.db, 4))?.hookState).toBe("ok");
      await recordHookStates(t.db, [{ projectId: 4, state: "disabled" }], at(30), at(30));
      expect((await getProject(t.db, 4))?.hookState).toBe("disabled");
    });

    test("hook events say which kind and until when", async () => {
      const source = { jobExecutionId: 7, messageId: "7:monitor-item:5" };
      await addHookEvent(t.db, 5, HOOK_EVENTS.temporarilyDisabled, at(90), source, at(1));
      await addHookEvent(t.db, 5, HOOK_EVENTS.reenabled, null, source, at(1));
      const [reenabled, disabled] = await events(t.db, 5, 10);
      expect(disabled).toMatchObject({ action: "hook_temp_disabled", commitDate: at(90), jobExecutionId: 7 });
      expect(reenabled).toMatchObject({ action: "hook_reenabled", commitDate: null, commitHash: null });
    });
  });
}
