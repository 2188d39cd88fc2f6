/** The contract's execution JSON (and item JSON later), with ISO-8601 times. */

import { redact } from "../lib/log.ts";
import type { ExecutionDetail } from "./service.ts";
import type { JobExecution } from "./types.ts";

/** Stored text and contexts may quote errors that quote secrets: shown the way logs show them. */
const redactJson = <T>(value: T): T =>
  value == null ? value : (JSON.parse(redact(JSON.stringify(value))) as T);

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function executionJson(e: JobExecution) {
  return {
    id: e.id,
    jobInstanceId: e.jobInstanceId,
    jobName: e.jobName,
    status: e.status,
    exitCode: e.exitCode,
    exitMessage: redact(e.exitMessage),
    createTime: iso(e.createTime),
    startTime: iso(e.startTime),
    endTime: iso(e.endTime),
    lastUpdated: iso(e.lastUpdated),
    trigger: e.trigger,
    restartOf: e.restartOf,
    mode: e.mode,
    launchedBy: e.launchedBy,
    runner: e.runner,
    counts: e.counts,
  };
}

export function executionDetailJson(e: ExecutionDetail) {
  return {
    ...executionJson(e),
    params: redactJson(e.params),
    step: e.step && {
      id: e.step.id,
      name: e.step.name,
      status: e.step.status,
      commitCount: e.step.commitCount,
      startTime: iso(e.step.startTime),
      endTime: iso(e.step.endTime),
      lastUpdated: iso(e.step.lastUpdated),
      exitCode: e.step.exitCode,
      exitMessage: redact(e.step.exitMessage),
      context: redactJson(e.step.context),
    },
  };
}
