/**
 * POST /webhooks/gitlab: push events become update-item messages, a system hook's project events
 * monitor-item / update-item / delete-item (src/ingest/webhook.ts says which); answered quickly.
 *
 * Order of checks, cheapest and least revealing first: the X-Gitlab-Token (before a byte of the
 * body is read), then the body read as a stream and cut off past the size limit (413, never
 * buffered whole), then JSON. The publish waits for the broker's confirm at most
 * PUBLISH_TIMEOUT_MS: during a broker outage GitLab gets 503 (and retries the delivery) instead
 * of a request that hangs.
 */
import { Elysia } from "elysia";
import type { GitlabConfig } from "../config/config.ts";
import { interpretWebhook, type WebhookDecision, webhookTokenValid } from "../ingest/webhook.ts";
import type { Logger } from "../lib/log.ts";
import { SECOND } from "../lib/time.ts";
import {
  createWebhookDeleteMessage,
  createWebhookProjectMessage,
  createWebhookUpdateMessage,
  encodeMessage,
  MalformedMessageError,
  parseMessage,
} from "../queue/messages.ts";
import { duplicateQueryKey } from "./auth/access.ts";
import { errorResponse } from "./errors.ts";
import { RESPONSES } from "./openapi-responses.ts";

export const WEBHOOK_PATH = "/webhooks/gitlab";

/** How long a delivery waits for its message to be confirmed before answering 503. */
export const PUBLISH_TIMEOUT_MS = 8 * SECOND;

export interface WebhookDeps {
  gitlab: Pick<
    GitlabConfig,
    "group" | "includeSubgroups" | "withShared" | "ignoreProjects" | "webhookSecret" | "webhookEnabled"
  >;
  /** Publishes the update-item (with confirm) for a push. */
  publishPush(push: { projectId: number; projectPath: string; checkoutSha: string }): Promise<void>;
  /** Publishes the delete-item (with confirm) for a project_destroy / project_transfer event. */
  publishRemoval(removal: { projectId: number; projectPath: string; eventName: string }): Promise<void>;
  /**
   * Publishes (with confirm) monitor-item then update-item (`monitor`), or update-item alone, for a
   * system hook's project_create / project_rename / project_transfer within or into the group.
   */
  publishProjectEvent?(event: {
    projectId: number;
    projectPath: string;
    eventName: string;
    monitor: boolean;
  }): Promise<void>;
  /**
   * A push carrying our secret suggests our hook is on its project: asks for it to be recorded as
   * verified, which happens only once GitLab confirms it (src/ingest/hook-verifier.ts), so
   * incremental scans may skip that project's hook check for a while. Failures are logged.
   */
  hookVerified?(projectId: number): Promise<void>;
  /** Whether the broker connection is up now; a delivery during an outage gets 503 at once. */
  brokerConnected?: () => boolean;
  logger: Logger;
  /** Largest body read; larger ones get 413. */
  maxBodyBytes?: number;
  publishTimeoutMs?: number;
  /** A delivery without the right X-Gitlab-Token (counted and logged by app.ts). */
  onRefused?(request: Request): void;
  /** A delivery carrying the secret: its sender is no stranger. */
  onAuthenticated?(request: Request): void;
  /** A delivery with the secret whose query names a parameter twice (refused with 400). */
  onDuplicateParameter?(request: Request): void;
}

const unavailable = () =>
  errorResponse(
    503,
    "BROKER_UNAVAILABLE",
    "the message broker is unavailable; GitLab will retry the delivery",
    {},
    { "retry-after": "10" },
  );

export function webhookRoutes(deps: WebhookDeps) {
  if (deps.gitlab.webhookEnabled === false) return new Elysia(); // 404 like any unknown route
  const maxBody = deps.maxBodyBytes ?? 1024 * 1024;
  const timeoutMs = deps.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;

  /** Resolves true when confirmed, false when the broker did not confirm in time. */
  async function published(publish: Promise<void>): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    publish.catch(() => {}); // a late failure is logged by the publisher; nobody waits for it
    try {
      return await Promise.race([publish.then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  return new Elysia().post(
    WEBHOOK_PATH,
    async ({ request, set }) => {
      if (!webhookTokenValid(deps.gitlab.webhookSecret, request.headers.get("x-gitlab-token"))) {
        await request.body?.cancel().catch(() => {});
        deps.onRefused?.(request);
        return errorResponse(
          401,
          "UNAUTHORIZED",
          "X-Gitlab-Token does not match the configured webhook secret",
        );
      }
      deps.onAuthenticated?.(request);
      const twice = duplicateQueryKey(new URL(request.url).search);
      if (twice !== null) {
        await request.body?.cancel().catch(() => {});
        deps.onDuplicateParameter?.(request);
        return errorResponse(
          400,
          "DUPLICATE_PARAMETER",
          `the query names ${JSON.stringify(twice.slice(0, 60))} more than once; give each parameter once`,
        );
      }
      const text = await readLimited(request, maxBody);
      if (text === null) {
        return errorResponse(413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${maxBody} bytes`);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON, or nested deeper than the parser goes
        return errorResponse(400, "MALFORMED_BODY", "the request body could not be parsed");
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        return errorResponse(422, "INVALID_REQUEST", "the webhook body must be a JSON object");
      }
      const decision = interpretWebhook(deps.gitlab, request.headers.get("x-gitlab-event"), body);
      if (decision.kind === "ignored") {
        deps.logger.debug("webhook ignored", { reason: decision.reason });
        // A push is answered 202 whatever it changes (the contract's rule for push events), with
        // why nothing was published; any other event is acknowledged with 204.
        if (isPushEvent(request.headers.get("x-gitlab-event"), body)) {
          set.status = 202;
          return { accepted: false, reason: decision.reason };
        }
        set.status = 204;
        return;
      }
      // what the consumer would dead-letter is refused here instead, never published
      const problem = unpublishable(decision);
      if (problem !== null) {
        deps.logger.debug("webhook refused: its message could not be ingested", { reason: problem });
        return errorResponse(422, "INVALID_REQUEST", `the event cannot be ingested: ${problem}`);
      }
      const publishProjectEvent = deps.publishProjectEvent;
      if (decision.kind === "project" && !publishProjectEvent) {
        set.status = 204; // a receiver built without it (tests): as before, nothing to do
        return;
      }
      if (deps.brokerConnected && !deps.brokerConnected()) return unavailable();
      if (decision.kind === "project") {
        const { projectId, projectPath, eventName, monitor } = decision;
        const publish =
          publishProjectEvent?.({ projectId, projectPath, eventName, monitor }) ?? Promise.resolve();
        if (!(await published(publish))) {
          deps.logger.warn("webhook answered 503: the broker did not confirm in time", { projectId });
          return unavailable();
        }
        deps.logger.info(
          monitor
            ? "project event received: monitor-item and update-item published"
            : "project event received: update-item published",
          { projectId, projectPath, event: eventName },
        );
        set.status = 202;
        return { accepted: true, projectId };
      }
      if (decision.kind === "delete") {
        const { projectId, projectPath, eventName } = decision;
        if (!(await published(deps.publishRemoval({ projectId, projectPath, eventName })))) {
          deps.logger.warn("webhook answered 503: the broker did not confirm in time", { projectId });
          return unavailable();
        }
        deps.logger.info("project removal received: delete-item published", {
          projectId: decision.projectId,
          event: decision.eventName,
        });
        set.status = 202;
        return { accepted: true, projectId: decision.projectId };
      }
      const { projectId, projectPath, checkoutSha } = decision;
      if (!(await published(deps.publishPush({ projectId, projectPath, checkoutSha })))) {
        deps.logger.warn("webhook answered 503: the broker did not confirm in time", { projectId });
        return unavailable();
      }
      // Without a secret, any hook pointing here could have sent it: nothing is proven.
      if (deps.gitlab.webhookSecret !== "" && deps.hookVerified) {
        await deps
          .hookVerified(projectId)
          .catch((err) => deps.logger.warn("could not record the hook as verified", { projectId, err }));
      }
      deps.logger.info("push received: update-item published", {
        projectId: decision.projectId,
        checkoutSha: decision.checkoutSha,
      });
      set.status = 202;
      return { accepted: true, projectId: decision.projectId };
    },
    {
      parse: "none",
      detail: {
        summary:
          "GitLab webhook: a push to a group project's default branch publishes update-item; a system hook's project_create in the group (or project_transfer into it) publishes monitor-item and update-item, project_rename (or project_transfer within it) update-item, project_destroy (or project_transfer out of it) delete-item",
        tags: ["webhooks"],
        parameters: [{ name: "X-Gitlab-Token", in: "header", required: true, schema: { type: "string" } }],
        responses: RESPONSES.webhook,
      },
    },
  );
}

/**
 * Why the message a decision would publish is one the consumers refuse (parseMessage: the same
 * rules, on the same bytes), or null when it is fine: a path too long or not shaped like a GitLab
 * project path must not fill the `.dead` queues.
 */
function unpublishable(decision: Exclude<WebhookDecision, { kind: "ignored" }>): string | null {
  const project = { projectId: decision.projectId, projectPath: decision.projectPath };
  const message =
    decision.kind === "update"
      ? createWebhookUpdateMessage(decision.checkoutSha, project)
      : decision.kind === "project"
        ? createWebhookProjectMessage("update-item", decision.eventName, project)
        : createWebhookDeleteMessage(decision.eventName, project);
  try {
    parseMessage(encodeMessage(message.body));
    return null;
  } catch (err) {
    if (err instanceof MalformedMessageError) return err.reason;
    throw err;
  }
}

/** The body as text, read chunk by chunk; null as soon as it grows past `max` bytes. */
async function readLimited(request: Request, max: number): Promise<string | null> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A push event, by GitLab's event header or the payload's own kind (tag pushes are not). */
function isPushEvent(eventHeader: string | null, body: object): boolean {
  return eventHeader === "Push Hook" || (body as { object_kind?: unknown }).object_kind === "push";
}
