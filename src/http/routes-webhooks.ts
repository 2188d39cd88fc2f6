/** POST /webhooks/gitlab: push events become update-item messages; answered quickly. */
import { Elysia } from "elysia";
import type { GitlabConfig } from "../config.ts";
import { interpretWebhook, webhookTokenValid } from "../ingest/webhook.ts";
import type { Logger } from "../lib/log.ts";
import { errorResponse } from "./errors.ts";
import { RESPONSES } from "./openapi-responses.ts";

export interface WebhookDeps {
  gitlab: Pick<GitlabConfig, "group" | "includeSubgroups" | "ignoreProjects" | "webhookSecret">;
  /** Publishes the update-item (with confirm) for a push. */
  publishPush(push: { projectId: number; projectPath: string; checkoutSha: string }): Promise<void>;
  /** Publishes the delete-item (with confirm) for a project_destroy / project_transfer event. */
  publishRemoval(removal: { projectId: number; projectPath: string; eventName: string }): Promise<void>;
  logger: Logger;
}

export function webhookRoutes(deps: WebhookDeps) {
  return new Elysia().post(
    "/webhooks/gitlab",
    async ({ request, body, set }) => {
      if (!webhookTokenValid(deps.gitlab.webhookSecret, request.headers.get("x-gitlab-token"))) {
        return errorResponse(
          401,
          "UNAUTHORIZED",
          "X-Gitlab-Token does not match the configured webhook secret",
        );
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        return errorResponse(422, "INVALID_REQUEST", "the webhook body must be a JSON object");
      }
      const decision = interpretWebhook(deps.gitlab, request.headers.get("x-gitlab-event"), body);
      if (decision.kind === "ignored") {
        deps.logger.debug("webhook ignored", { reason: decision.reason });
        set.status = 204;
        return;
      }
      if (decision.kind === "delete") {
        const { projectId, projectPath, eventName } = decision;
        await deps.publishRemoval({ projectId, projectPath, eventName });
        deps.logger.info("project removal received: delete-item published", {
          projectId: decision.projectId,
          event: decision.eventName,
        });
        set.status = 202;
        return { accepted: true, projectId: decision.projectId };
      }
      const { projectId, projectPath, checkoutSha } = decision;
      await deps.publishPush({ projectId, projectPath, checkoutSha });
      deps.logger.info("push received: update-item published", {
        projectId: decision.projectId,
        checkoutSha: decision.checkoutSha,
      });
      set.status = 202;
      return { accepted: true, projectId: decision.projectId };
    },
    {
      parse: "json",
      detail: {
        summary:
          "GitLab webhook: a push to a group project's default branch publishes update-item; a system hook's project_destroy (or project_transfer out of the group) publishes delete-item",
        tags: ["webhooks"],
        parameters: [{ name: "X-Gitlab-Token", in: "header", required: false, schema: { type: "string" } }],
        responses: RESPONSES.webhook,
      },
    },
  );
}
