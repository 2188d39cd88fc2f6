/**
 * Project webhooks at work: push events delivered to a project's hooks, test deliveries, and
 * the health GitLab keeps per hook from their outcomes (`alert_status`, `disabled_until`).
 *
 * The rules are those of docs.gitlab.com/user/project/integrations/webhooks/#auto-disabled-webhooks
 * (GitLab 17.11 and later, policy "gitlab-17.11", the default):
 * - a delivery fails when the receiver answers 4xx or 5xx, times out, or another HTTP error occurs;
 * - after 4 consecutive failures the hook is temporarily disabled: for one minute, extended on each
 *   further failure (doubling) up to 24 hours; once the time is up it is tried again;
 * - after 40 consecutive failures it is disabled for good (`alert_status: disabled`);
 * - a disabled or temporarily disabled hook gets no deliveries;
 * - a test request (POST /projects/:id/hooks/:hook_id/test/:trigger) is always sent, and re-enables
 *   the hook when the receiver answers 2xx ("Re-enable disabled webhooks").
 * Before 17.11 ("gitlab-before-17.11") a hook whose fourth consecutive failure was a 4xx was
 * disabled at once, until re-enabled; "off" is a self-managed instance without the
 * `auto_disabling_web_hooks` flag, which never disables project hooks.
 *
 * Editing a hook (PUT) leaves its health as it is: the documented way back is a test request.
 */
import { changesOf, indexCommits } from "./gitlab-commits.ts";
import type { SimCommit, SimHook, SimHookHealth, SimProject } from "./gitlab-model.ts";
import type { SimState } from "./gitlab-state.ts";

export type AutoDisablePolicy = "gitlab-17.11" | "gitlab-before-17.11" | "off";
export type AlertStatus = "executable" | "temporarily_disabled" | "disabled";

export const FAILURES_TO_DISABLE_TEMPORARILY = 4;
export const FAILURES_TO_DISABLE_PERMANENTLY = 40;
export const INITIAL_BACKOFF_MS = 60_000;
export const MAX_BACKOFF_MS = 24 * 60 * 60_000;

export function alertStatus(h: SimHookHealth, now: number): AlertStatus {
  if (h.permanentlyDisabled) return "disabled";
  if (h.disabledUntil !== null && h.disabledUntil > now) return "temporarily_disabled";
  return "executable";
}

/** How long the n-th temporary disabling lasts (n = 0 for the 4th consecutive failure). */
export function backoffMs(n: number): number {
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.min(n, 30));
}

/** What a delivery came to: an HTTP status, or an error before one arrived. */
export type Outcome = { status: number; body: string } | { error: "timeout" | "connection"; message: string };

const succeeded = (o: Outcome) => "status" in o && o.status >= 200 && o.status < 300;

/** Moves a hook's health after one delivery, as the policy says. */
export function recordOutcome(h: SimHookHealth, o: Outcome, now: number, policy: AutoDisablePolicy): void {
  if (succeeded(o)) {
    h.recentFailures = 0;
    h.disabledUntil = null;
    h.permanentlyDisabled = false;
    return;
  }
  if (policy === "off") return;
  h.recentFailures++;
  if (h.recentFailures < FAILURES_TO_DISABLE_TEMPORARILY) return;
  const clientError = "status" in o && o.status >= 400 && o.status < 500;
  if (
    (policy === "gitlab-17.11" && h.recentFailures >= FAILURES_TO_DISABLE_PERMANENTLY) ||
    (policy === "gitlab-before-17.11" && clientError)
  ) {
    h.permanentlyDisabled = true;
    h.disabledUntil = null;
    return;
  }
  h.disabledUntil = now + backoffMs(h.recentFailures - FAILURES_TO_DISABLE_TEMPORARILY);
}

/** Test control: puts a hook straight into a disabled state. */
export function forceDisable(
  h: SimHookHealth,
  how: "temporarily" | "permanently",
  now: number,
  until?: number,
): void {
  if (how === "permanently") {
    h.recentFailures = Math.max(h.recentFailures, FAILURES_TO_DISABLE_PERMANENTLY);
    h.permanentlyDisabled = true;
    h.disabledUntil = null;
  } else {
    h.recentFailures = Math.max(h.recentFailures, FAILURES_TO_DISABLE_TEMPORARILY);
    h.permanentlyDisabled = false;
    h.disabledUntil = until ?? now + INITIAL_BACKOFF_MS;
  }
}

export interface Delivery {
  hookId: number;
  url: string;
  event: string;
  headers: Record<string, string>;
  payload: unknown;
  outcome: Outcome | "skipped";
  alertStatus: AlertStatus;
}

export interface HookOptions {
  policy: AutoDisablePolicy;
  timeoutMs: number;
  now: () => number;
  baseUrl: () => string;
}

const SIM_VERSION = "17.11.0-sim";
const ZERO_SHA = "0000000000000000000000000000000000000000";

/** A stable UUID per hook: GitLab's X-Gitlab-Webhook-UUID names the hook, not the delivery. */
function hookUuid(kind: string, id: number): string {
  const hasher = new Bun.CryptoHasher("sha1");
  hasher.update(`${kind}:${id}`);
  const h = hasher.digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Sends one JSON POST the way GitLab's hook workers do (no redirects followed) and reports it. */
export async function post(
  url: string,
  headers: Record<string, string>,
  payload: unknown,
  timeoutMs: number,
): Promise<Outcome> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify(payload),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as Error;
    const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
    return { error: timedOut ? "timeout" : "connection", message: e.message };
  }
}

/** The headers of docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers. */
export function deliveryHeaders(event: string, token: string, instance: string, hookUuidValue: string) {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": `GitLab/${SIM_VERSION}`,
    "X-Gitlab-Event": event,
    "X-Gitlab-Instance": instance,
    "X-Gitlab-Webhook-UUID": hookUuidValue,
    "X-Gitlab-Event-UUID": crypto.randomUUID(),
    "Idempotency-Key": crypto.randomUUID(),
  };
  if (token !== "") headers["X-Gitlab-Token"] = token;
  return headers;
}

/** The push event of docs.gitlab.com/user/project/integrations/webhook_events/#push-events. */
export function pushPayload(
  state: SimState,
  base: string,
  p: SimProject,
  push: { ref: string; before: string; after: string; commits: SimCommit[] },
) {
  const path = state.fullPathOf(p);
  const web = `${base}/${path}`;
  const ssh = `git@sim.invalid:${path}.git`;
  const index = indexCommits(state.historyOf(p));
  const pusher = push.commits.at(-1);
  const username = (pusher?.authorName ?? "").toLowerCase().replace(/[^a-z0-9.]+/g, ".");
  return {
    object_kind: "push",
    event_name: "push",
    before: push.before,
    after: push.after,
    ref: push.ref,
    ref_protected: true,
    checkout_sha: push.after === ZERO_SHA ? null : push.after,
    message: null,
    user_id: 1,
    user_name: pusher?.authorName ?? "",
    user_username: username,
    user_email: pusher?.authorEmail ?? "",
    user_avatar: null,
    project_id: p.id,
    project: {
      id: p.id,
      name: p.name,
      description: "",
      web_url: web,
      avatar_url: null,
      git_ssh_url: ssh,
      git_http_url: `${web}.git`,
      namespace: state.namespaces.get(p.namespaceId)?.name ?? "",
      visibility_level: 0,
      path_with_namespace: path,
      default_branch: p.defaultBranch,
      ci_config_path: null,
      homepage: web,
      url: ssh,
      ssh_url: ssh,
      http_url: `${web}.git`,
    },
    // "If you push more than 20 commits at once, the commits attribute contains the newest 20."
    commits: push.commits.slice(-20).map((c) => ({
      id: c.id,
      message: c.message,
      title: c.title,
      timestamp: c.committedDate,
      url: `${web}/-/commit/${c.id}`,
      author: { name: c.authorName, email: c.authorEmail },
      ...changesOf(c, index),
    })),
    total_commits_count: push.commits.length,
    push_options: {},
    repository: {
      name: p.name,
      url: ssh,
      description: "",
      homepage: web,
      git_http_url: `${web}.git`,
      git_ssh_url: ssh,
      visibility_level: 0,
    },
  };
}

/** Trigger names of "Trigger a test project webhook" (docs.gitlab.com/api/project_webhooks/). */
export const TEST_TRIGGERS = [
  "push_events",
  "tag_push_events",
  "issues_events",
  "confidential_issues_events",
  "note_events",
  "merge_requests_events",
  "job_events",
  "pipeline_events",
  "wiki_page_events",
  "releases_events",
  "emoji_events",
  "resource_access_token_events",
] as const;

const NOTHING_TO_TEST: Record<string, string> = {
  tag_push_events: "tags",
  issues_events: "issues",
  confidential_issues_events: "issues",
  note_events: "notes",
  merge_requests_events: "merge requests",
  job_events: "CI jobs",
  pipeline_events: "CI pipelines",
  wiki_page_events: "wiki pages",
  releases_events: "releases",
  emoji_events: "notes",
  resource_access_token_events: "project access tokens",
};

export function createHookDeliveries(state: SimState, opts: HookOptions) {
  const log: Delivery[] = [];
  const inFlight = new Set<Promise<unknown>>();

  async function deliver(hook: SimHook, event: string, payload: unknown, force: boolean): Promise<Delivery> {
    const now = opts.now();
    const headers = deliveryHeaders(event, hook.token, opts.baseUrl(), hookUuid("project", hook.id));
    if (!force && alertStatus(hook, now) !== "executable") {
      const skipped: Delivery = {
        hookId: hook.id,
        url: hook.url,
        event,
        headers,
        payload,
        outcome: "skipped",
        alertStatus: alertStatus(hook, now),
      };
      log.push(skipped);
      return skipped;
    }
    const outcome = await post(hook.url, headers, payload, opts.timeoutMs);
    recordOutcome(hook, outcome, opts.now(), opts.policy);
    const done: Delivery = {
      hookId: hook.id,
      url: hook.url,
      event,
      headers,
      payload,
      outcome,
      alertStatus: alertStatus(hook, opts.now()),
    };
    log.push(done);
    return done;
  }

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  }

  /**
   * Delivers a push event to every hook of the project with push events on (a disabled one is
   * skipped and logged as such). `commits`: what was pushed, oldest first; default the head.
   */
  function deliverPush(projectId: number, commits?: SimCommit | SimCommit[]): Promise<Delivery[]> {
    const p = state.project(projectId);
    if (!p) return Promise.reject(new Error(`no project ${projectId}`));
    const pushed =
      commits === undefined ? state.historyOf(p).slice(0, 1) : Array.isArray(commits) ? commits : [commits];
    const first = pushed[0];
    const last = pushed.at(-1);
    const payload = pushPayload(state, opts.baseUrl(), p, {
      ref: `refs/heads/${p.defaultBranch ?? "main"}`,
      before: first?.parentIds[0] ?? ZERO_SHA,
      after: last?.id ?? ZERO_SHA,
      commits: pushed,
    });
    const hooks = state.hooksOf(p).filter((h) => h.pushEvents);
    return track(Promise.all(hooks.map((h) => deliver(h, "Push Hook", payload, false))));
  }

  /**
   * "Trigger a test project webhook": sends the sample event whatever the hook's state and
   * answers as the API does — 201 when the receiver answered 2xx (the hook is enabled again),
   * else 422 with the receiver's body or the error as the message.
   */
  async function testHook(hook: SimHook, trigger: string): Promise<{ status: number; body: unknown }> {
    const p = state.project(hook.projectId);
    if (!p) return { status: 404, body: { message: "404 Project Not Found" } };
    if (trigger !== "push_events") {
      // the simulated projects have no tags, issues, merge requests, notes, jobs, pipelines…
      return {
        status: 422,
        body: { message: `Ensure the project has ${NOTHING_TO_TEST[trigger] ?? "data"}.` },
      };
    }
    const recent = state.historyOf(p).slice(0, 3).reverse();
    if (recent.length === 0)
      return { status: 422, body: { message: "Ensure the project has at least one commit." } };
    const payload = pushPayload(state, opts.baseUrl(), p, {
      ref: `refs/heads/${p.defaultBranch ?? "main"}`,
      before: recent[0]?.parentIds[0] ?? ZERO_SHA,
      after: recent.at(-1)?.id ?? ZERO_SHA,
      commits: recent,
    });
    const d = await track(deliver(hook, "Push Hook", payload, true));
    if (d.outcome !== "skipped" && succeeded(d.outcome))
      return { status: 201, body: { message: "201 Created" } };
    const o = d.outcome;
    const message = o === "skipped" ? "skipped" : "status" in o ? o.body : o.message;
    return { status: 422, body: { message } };
  }

  return {
    deliverPush,
    testHook,
    /** Every delivery attempted or skipped, oldest first. */
    deliveries: log,
    /** Resolves when every delivery under way has ended. */
    async idle(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

export type HookDeliveries = ReturnType<typeof createHookDeliveries>;
