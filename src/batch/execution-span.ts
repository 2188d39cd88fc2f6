/**
 * The span of a job execution (tracing on): a trace of its own — a run lasts minutes to hours
 * and holds thousands of spans, so it does not hang under the HTTP request or cron tick that
 * launched it; a link points back to that request's span. Every page, GitLab request and publish
 * of the execution is inside it, and the execution id is on it (`item_sync.execution.id`, what
 * TRACE_URL_TEMPLATE searches by).
 */
import { ATTR_EXECUTION_ID } from "../lib/semconv.ts";
import { activeSpan, errorStatus, inSpan, KIND, linkToActive } from "../lib/tracing.ts";
import type { Counts, JobExecution } from "./types.ts";

export function inExecutionSpan<T>(
  jobName: string,
  execution: JobExecution,
  run: () => Promise<T>,
): Promise<T> {
  return inSpan(
    `job ${jobName}`,
    {
      kind: KIND.internal,
      root: true,
      links: linkToActive(),
      attributes: {
        [ATTR_EXECUTION_ID]: execution.id,
        "item_sync.job.name": jobName,
        "item_sync.job.instance.id": execution.jobInstanceId,
        ...(execution.mode ? { "item_sync.execution.mode": execution.mode } : {}),
        "item_sync.execution.trigger": execution.trigger,
        ...(execution.restartOf ? { "item_sync.execution.restart_of": execution.restartOf } : {}),
      },
    },
    run,
  );
}

/** The execution's end on its span: status and counts; FAILED marks the span failed. */
export function recordExecutionOutcome(status: string, exitMessage: string, counts: Counts): void {
  const span = activeSpan();
  if (span === undefined) return;
  span.setAttribute("item_sync.execution.status", status);
  for (const [name, value] of Object.entries(counts)) span.setAttribute(`item_sync.counts.${name}`, value);
  if (status === "FAILED") errorStatus(span, exitMessage.slice(0, 500));
}
