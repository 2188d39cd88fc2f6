/**
 * Batch vocabulary (Spring Batch's, which operators of the replaced system know):
 * - job: a named unit of work (`itemSynchronizationJob`) made of one step.
 * - job instance: the job with one set of *identifying* parameters (a cron slot, or a run id).
 *   An instance is complete once one of its executions COMPLETED.
 * - job execution: one attempt at an instance. A FAILED or STOPPED instance is resumed by a new
 *   execution of the same instance (`restartOf` names the attempt it continues).
 * - step execution: the step's run inside a job execution, with its counts.
 * - execution context: JSON state saved with a step execution; the *checkpoint* (how far the
 *   step got, durably) lives there and is handed to the next execution of the instance.
 * - lease: a running execution refreshes `last_updated` (its heartbeat) at least every lease/4;
 *   one whose heartbeat is older than the lease is dead, and is marked FAILED by the next
 *   launch or sweep.
 */

import type { SyncModeChoice } from "../config/modes.ts";

export { MODE_CHOICES, SCAN_MODES, type ScanMode, type SyncModeChoice } from "../config/modes.ts";

export const JOB_STATUS = {
  STARTING: "STARTING",
  STARTED: "STARTED",
  STOPPING: "STOPPING",
  STOPPED: "STOPPED",
  COMPLETED: "COMPLETED",
  FAILED: "FAILED",
  ABANDONED: "ABANDONED",
} as const;
export type JobStatus = (typeof JOB_STATUS)[keyof typeof JOB_STATUS];
export const JOB_STATUSES = Object.values(JOB_STATUS);

export const RUNNING_STATUSES: readonly JobStatus[] = ["STARTING", "STARTED", "STOPPING"];
export const RESTARTABLE_STATUSES: readonly JobStatus[] = ["FAILED", "STOPPED"];

export function isRunning(status: JobStatus): boolean {
  return RUNNING_STATUSES.includes(status);
}

export const TRIGGERS = ["api", "cron", "cli"] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface Counts {
  read: number;
  hooksChecked: number;
  monitorPublished: number;
  updatePublished: number;
  deletePublished: number;
  skipped: number;
  /** Projects an incremental scan left alone (listing unchanged, no recent activity). */
  unchanged: number;
  /** Legacy hooks edited in place to ours by monitor-item. */
  hooksAdopted: number;
}

/**
 * Projects fully handled: hooks checked and update-item confirmed, or, in an incremental scan,
 * left unchanged. Progress and ETAs count these, not projects read ahead.
 */
export function handledCount(c: Counts): number {
  return c.updatePublished + c.unchanged;
}

export function zeroCounts(): Counts {
  return {
    read: 0,
    hooksChecked: 0,
    monitorPublished: 0,
    updatePublished: 0,
    deletePublished: 0,
    skipped: 0,
    unchanged: 0,
    hooksAdopted: 0,
  };
}

export interface StepExecution {
  id: number;
  name: string;
  status: JobStatus;
  commitCount: number;
  startTime: Date | null;
  endTime: Date | null;
  lastUpdated: Date;
  exitCode: string;
  exitMessage: string;
  /** The step's saved execution context (checkpoint, skipped projects, …). */
  context: Record<string, unknown>;
}

export interface JobExecution {
  id: number;
  jobInstanceId: number;
  jobName: string;
  status: JobStatus;
  exitCode: string;
  exitMessage: string;
  createTime: Date;
  startTime: Date | null;
  endTime: Date | null;
  lastUpdated: Date;
  trigger: Trigger;
  restartOf: number | null;
  /** Who launched it: `token#N`, an OAuth2 subject, `cron` or `cli`; null when unknown. */
  launchedBy: string | null;
  /** The host (pod) that runs it. */
  runner: string | null;
  /** Scan mode (`full` or `incremental`); null for executions older than modes. */
  mode: string | null;
  counts: Counts;
  params: Record<string, string>;
  stepExecutionId: number | null;
}

export interface LaunchRequest {
  jobName: string;
  stepName: string;
  trigger: Trigger;
  /** Start a new instance even when the newest one FAILED or STOPPED. */
  fresh?: boolean;
  /** Identifying parameters (a cron slot): an instance with them runs at most once. */
  identifying?: Record<string, string>;
  /** Parameters that do not identify the instance (allowMassDelete, …). */
  params?: Record<string, string>;
  launchedBy?: string | null;
  runner?: string | null;
  /**
   * The scan mode asked for; `auto` is resolved in the launch transaction. A resumed execution
   * keeps the mode of the one it resumes, whatever is asked. Null: a job without modes.
   */
  mode?: SyncModeChoice | null;
  /** For `auto`: a full run is due when none COMPLETED within this many ms. */
  fullEveryMs?: number;
}

export type LaunchResult =
  | { kind: "started"; execution: JobExecution }
  | { kind: "running"; runningId: number }
  | { kind: "duplicate"; executionId: number };
