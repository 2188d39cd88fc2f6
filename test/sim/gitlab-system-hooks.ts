/**
 * System hooks (docs.gitlab.com/administration/system_hooks/): the project events of the whole
 * instance, POSTed with `X-Gitlab-Event: System Hook` and the hook's secret token to every
 * registered system hook. The payload fields are the documented ones for `project_create`,
 * `project_destroy`, `project_rename`, `project_transfer` and `project_update`:
 * `created_at`, `updated_at`, `event_name`, `name`, `owner_email`, `owner_name`, `owners`,
 * `path`, `path_with_namespace`, `project_id`, `project_namespace_id`, `project_visibility`, and
 * `old_path_with_namespace` for renames and transfers.
 *
 * As documented: `project_rename` is sent when the path changes (a name alone is `project_update`);
 * `project_transfer` when the project moves to another namespace.
 */
import { deliveryHeaders, type Outcome, post } from "./gitlab-hooks.ts";
import type { ProjectSnapshot, SimEvent } from "./gitlab-model.ts";
import type { SimSystemHook } from "./gitlab-state.ts";

export type ProjectEventName =
  | "project_create"
  | "project_destroy"
  | "project_rename"
  | "project_transfer"
  | "project_update";

/** The group that owns the simulated projects has one owner, who appears in `owners`. */
export const GROUP_OWNER = { name: "IMRT Administrator", email: "imrt-admin@example.org" };

export function systemHookPayload(
  event: ProjectEventName,
  project: ProjectSnapshot,
  opts: { oldPathWithNamespace?: string; at?: string } = {},
) {
  return {
    created_at: project.createdAt,
    updated_at: opts.at ?? new Date().toISOString(),
    event_name: event,
    name: project.name,
    // a project in a group: the group is its owner, and a group has no e-mail address
    owner_email: "",
    owner_name: project.namespaceName,
    owners: [GROUP_OWNER],
    path: project.path,
    path_with_namespace: project.pathWithNamespace,
    project_id: project.id,
    project_namespace_id: project.namespaceId,
    project_visibility: "private",
    ...(opts.oldPathWithNamespace !== undefined
      ? { old_path_with_namespace: opts.oldPathWithNamespace }
      : {}),
  };
}

export interface SystemDelivery {
  hookId: number | null;
  url: string;
  headers: Record<string, string>;
  payload: ReturnType<typeof systemHookPayload>;
  outcome: Outcome;
}

/** POSTs one system-hook payload to `url`: the helper a test uses to play GitLab's part. */
export async function sendSystemHook(
  url: string,
  token: string,
  payload: ReturnType<typeof systemHookPayload>,
  opts: { instance?: string; timeoutMs?: number } = {},
): Promise<Omit<SystemDelivery, "hookId">> {
  const headers = deliveryHeaders("System Hook", token, opts.instance ?? "http://127.0.0.1", "system");
  const outcome = await post(url, headers, payload, opts.timeoutMs ?? 10_000);
  return { url, headers, payload, outcome };
}

/** Delivers every project event of the state to its registered system hooks. */
export function createSystemHookDeliveries(
  state: { systemHooks: SimSystemHook[]; onEvent(fn: (e: SimEvent) => void): () => void },
  opts: { baseUrl: () => string; timeoutMs: number },
) {
  const log: SystemDelivery[] = [];
  const inFlight = new Set<Promise<unknown>>();

  function deliver(event: SimEvent) {
    if (event.kind === "push" || state.systemHooks.length === 0) return;
    const payload = systemHookPayload(event.kind, event.project, {
      oldPathWithNamespace: "oldPathWithNamespace" in event ? event.oldPathWithNamespace : undefined,
    });
    for (const hook of state.systemHooks) {
      const p = sendSystemHook(hook.url, hook.token, payload, {
        instance: opts.baseUrl(),
        timeoutMs: opts.timeoutMs,
      }).then((d) => {
        log.push({ hookId: hook.id, ...d });
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  }

  const stop = state.onEvent(deliver);
  return {
    /** Every system-hook delivery made, in the order they ended. */
    deliveries: log,
    async idle(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    stop,
  };
}
