/**
 * What the HTTP API, the CLI and the scheduler ask of the batch layer, for one job: launch it,
 * read executions (with live counts when this process runs them), stop and reset them.
 */
import { NotFoundError } from "../lib/errors.ts";
import type { JobRepository, ListQuery } from "./repository.ts";
import type { JobRunner, LaunchOptions } from "./runner.ts";
import type { JobExecution, LaunchResult, StepExecution, SyncModeChoice } from "./types.ts";

export interface ExecutionDetail extends JobExecution {
  step: StepExecution | null;
}

export interface JobService {
  readonly jobName: string;
  /** JOB_LEASE_SECONDS in ms: a running execution without a heartbeat for this long is dead. */
  readonly leaseMs: number;
  launch(opts: LaunchOptions): Promise<LaunchResult>;
  get(id: number): Promise<ExecutionDetail>;
  list(query: ListQuery): Promise<JobExecution[]>;
  stop(id: number): Promise<JobExecution>;
  reset(id: number, force: boolean): Promise<JobExecution>;
}

export function createJobService(deps: {
  jobName: string;
  repository: JobRepository;
  runner: JobRunner;
  leaseMs: number;
  /** Mode of launches that do not choose one (SYNC_MODE); none: the job has no modes. */
  defaultMode?: SyncModeChoice;
  /** SYNC_FULL_EVERY_HOURS, for `auto`. */
  fullEveryMs?: number;
}): JobService {
  const { repository, runner } = deps;
  // hooksAdopted is counted by the ingest workers into the database, never by the step.
  const live = (e: JobExecution): JobExecution => {
    const counts = runner.liveCounts(e.id);
    return counts ? { ...e, counts: { ...counts, hooksAdopted: e.counts.hooksAdopted } } : e;
  };
  return {
    jobName: deps.jobName,
    leaseMs: deps.leaseMs,
    launch: (opts) =>
      runner.launch(deps.jobName, {
        ...opts,
        mode: opts.mode ?? deps.defaultMode ?? null,
        fullEveryMs: deps.fullEveryMs,
      }),
    async get(id) {
      const execution = await repository.get(id);
      if (!execution) throw new NotFoundError(`job execution ${id} does not exist`);
      return { ...live(execution), step: await repository.getStep(id) };
    },
    async list(query) {
      return (await repository.list(query)).map(live);
    },
    async stop(id) {
      const execution = await repository.requestStop(id);
      runner.notifyStop(id);
      return execution;
    },
    async reset(id, force) {
      const execution = await repository.reset(id, { force, leaseMs: deps.leaseMs });
      runner.notifyStop(id);
      return execution;
    },
  };
}
