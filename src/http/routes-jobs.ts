/** POST /sync and the /jobs routes (protected by the guard in app.ts). */

import { Elysia, t } from "elysia";
import { executionDetailJson, executionJson } from "../batch/execution-json.ts";
import { heartbeatText } from "../batch/heartbeat.ts";
import type { JobService } from "../batch/service.ts";
import { JOB_STATUSES, type JobStatus, SCAN_MODES, type ScanMode } from "../batch/types.ts";
import type { Principal } from "./auth/auth.ts";
import { errorResponse } from "./errors.ts";
import { RESPONSES } from "./openapi-responses.ts";

// Plain string patterns rather than t.Numeric/t.UnionEnum: t.Numeric accepts 1.5, and an
// optional t.UnionEnum in a query silently defaults to its first member.
// A pattern's description is the rule a client broke: "<name> must be <description>" (errors.ts).
const Id = t.String({
  pattern: "^[1-9][0-9]{0,14}$",
  description: "a positive whole number (a job execution id)",
});
const Flag = t.Optional(t.String({ pattern: "^(true|false)$", description: "true or false" }));
const Status = t.String({
  pattern: `^(${JOB_STATUSES.join("|")})$`,
  description: `one of ${JOB_STATUSES.join(", ")}`,
});
const Limit = t.String({
  pattern: "^([1-9]|[1-9][0-9]|100)$",
  description: "a whole number from 1 to 100 (default 20)",
});
const Mode = t.Optional(
  t.String({
    pattern: `^(${SCAN_MODES.join("|")})$`,
    description: `one of ${SCAN_MODES.join(", ")} (unset: SYNC_MODE; a resumed run keeps its mode)`,
  }),
);
const security = [{ bearer: [] }];
/** A query the route takes exactly: an unknown parameter (`Force`, `access_token`) is a 422. */
const Query = <T extends Parameters<typeof t.Object>[0]>(properties: T) =>
  t.Object(properties, { additionalProperties: false });

export function jobRoutes(deps: { jobs: JobService; principalOf(request: Request): Principal | null }) {
  const { jobs } = deps;
  return new Elysia()
    .post(
      "/sync",
      async ({ query, set, request }) => {
        const params: Record<string, string> = {};
        if (query.allowMassDelete === "true") params.allowMassDelete = "true";
        const result = await jobs.launch({
          trigger: "api",
          launchedBy: deps.principalOf(request)?.subject,
          fresh: query.fresh === "true",
          params,
          mode: query.mode as ScanMode | undefined,
        });
        if (result.kind === "running") {
          const running = await jobs.get(result.runningId).catch(() => null);
          const alive = running ? ` (${heartbeatText(running, jobs.leaseMs)})` : "";
          return errorResponse(
            409,
            "JOB_ALREADY_RUNNING",
            `job execution ${result.runningId} is already running${alive}; follow it at /jobs/${result.runningId}`,
            { runningJobId: result.runningId },
          );
        }
        if (result.kind === "duplicate") {
          // Only scheduled launches carry identifying parameters; an API launch never lands here.
          return errorResponse(409, "JOB_INSTANCE_COMPLETE", "this job instance already ran");
        }
        set.status = 202;
        set.headers.location = `/jobs/${result.execution.id}`;
        return executionJson(result.execution);
      },
      {
        parse: "none",
        query: Query({ fresh: Flag, allowMassDelete: Flag, mode: Mode }),
        detail: {
          summary: "Start a sync (resumes the newest FAILED/STOPPED run unless fresh=true)",
          tags: ["jobs"],
          security,
          responses: RESPONSES.sync,
        },
      },
    )
    .get(
      "/jobs",
      async ({ query }) => {
        const list = await jobs.list({
          status: query.status as JobStatus | undefined,
          limit: query.limit === undefined ? 20 : Number(query.limit),
          before: query.before === undefined ? undefined : Number(query.before),
        });
        return { jobs: list.map(executionJson) };
      },
      {
        query: Query({
          status: t.Optional(Status),
          limit: t.Optional(Limit),
          before: t.Optional(Id),
        }),
        detail: {
          summary: "Job executions, newest first",
          tags: ["jobs"],
          security,
          responses: RESPONSES.jobs,
        },
      },
    )
    .get("/jobs/:id", async ({ params }) => executionDetailJson(await jobs.get(Number(params.id))), {
      params: t.Object({ id: Id }),
      query: Query({}),
      detail: {
        summary: "One job execution with its step, checkpoint and live counts",
        tags: ["jobs"],
        security,
        responses: RESPONSES.job,
      },
    })
    .post(
      "/jobs/:id/stop",
      async ({ params, set }) => {
        set.status = 202;
        return executionJson(await jobs.stop(Number(params.id)));
      },
      {
        parse: "none",
        params: t.Object({ id: Id }),
        query: Query({}),
        detail: {
          summary: "Ask a running execution to stop at its next checkpoint",
          tags: ["jobs"],
          security,
          responses: RESPONSES.stop,
        },
      },
    )
    .post(
      "/jobs/:id/reset",
      async ({ params, query }) => executionJson(await jobs.reset(Number(params.id), query.force === "true")),
      {
        parse: "none",
        params: t.Object({ id: Id }),
        query: Query({ force: Flag }),
        detail: {
          summary: "Mark a stuck execution ABANDONED (409 while its heartbeat is fresh unless force=true)",
          tags: ["jobs"],
          security,
          responses: RESPONSES.reset,
        },
      },
    );
}
