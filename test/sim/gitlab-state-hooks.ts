/**
 * The hooks part of the simulator's state: each project's hooks (seeded lazily, on first read,
 * from the seed's shares: ours, the replaced service's, an unrelated CI one), and the instance's
 * system hooks. Hook ids are one sequence for both kinds, as GitLab's web_hooks table has.
 */
import type { SimHook, SimProject } from "./gitlab-model.ts";
import { unit } from "./sim-random.ts";

/** A system hook (Admin > System hooks): receives project events of the whole instance. */
export interface SimSystemHook {
  id: number;
  url: string;
  token: string;
  createdAt: string;
}

/** The replaced service's hook url (its in-cluster Service), as the seed's hooks point at it. */
export const LEGACY_HOOK_URL = "http://ap-imrt-iis-service/webHook";

export function createHookStore(seed: {
  monitoredFraction: number;
  otherHookFraction: number;
  webhookUrl: string;
  legacyHookFraction?: number;
  legacyHookUrl?: string;
}) {
  let nextHookId = 1;
  const systemHooks: SimSystemHook[] = [];

  function newHook(projectId: number, url: string, createdAt: string, extra: Partial<SimHook> = {}): SimHook {
    return {
      id: nextHookId++,
      url,
      projectId,
      pushEvents: true,
      enableSslVerification: true,
      token: "",
      createdAt,
      recentFailures: 0,
      disabledUntil: null,
      permanentlyDisabled: false,
      ...extra,
    };
  }

  function hooksOf(p: SimProject): SimHook[] {
    if (!p.hooks) {
      p.hooks = [];
      const createdAt = p.createdAt;
      if (unit(p.id, 6) < (seed.legacyHookFraction ?? 0)) {
        p.hooks.push(newHook(p.id, seed.legacyHookUrl ?? LEGACY_HOOK_URL, createdAt));
      }
      if (unit(p.id, 5) < seed.otherHookFraction) {
        p.hooks.push(newHook(p.id, "https://ci.example.org/hook", createdAt));
      }
      if (unit(p.id, 4) < seed.monitoredFraction) {
        p.hooks.push(newHook(p.id, seed.webhookUrl, createdAt));
      }
    }
    return p.hooks;
  }

  return {
    hooksOf,
    systemHooks,
    /** Adds a hook as POST /hooks does. */
    addHook(p: SimProject, fields: Partial<SimHook> & { url: string }): SimHook {
      const hook = newHook(p.id, fields.url, new Date().toISOString(), fields);
      hooksOf(p).push(hook);
      return hook;
    },
    /** Edits a hook in place as PUT /hooks/:hook_id does: same id, new attributes. */
    editHook(hook: SimHook, changes: Partial<Omit<SimHook, "id" | "projectId" | "createdAt">>): SimHook {
      Object.assign(hook, changes);
      return hook;
    },
    /** Removes a hook as DELETE /hooks/:hook_id does; false when the project has no such hook. */
    removeHook(p: SimProject, hookId: number): boolean {
      const hooks = hooksOf(p);
      const i = hooks.findIndex((h) => h.id === hookId);
      if (i < 0) return false;
      hooks.splice(i, 1);
      return true;
    },
    /** Registers a system hook (POST /hooks); project events are delivered to it from now on. */
    addSystemHook(url: string, token = ""): SimSystemHook {
      const hook = { id: nextHookId++, url, token, createdAt: new Date().toISOString() };
      systemHooks.push(hook);
      return hook;
    },
    removeSystemHook(id: number): boolean {
      const i = systemHooks.findIndex((h) => h.id === id);
      if (i < 0) return false;
      systemHooks.splice(i, 1);
      return true;
    },
  };
}
