/**
 * Prometheus text exposition: executions by status and the running execution's progress, read
 * from the job repository (and the runner's live counts) at scrape time.
 */
import type { JobRepository } from "./batch/repository.ts";
import type { JobRunner } from "./batch/runner.ts";
import { JOB_STATUSES } from "./batch/types.ts";

export type MetricSource = () => string | Promise<string>;

export function createMetrics(deps: {
  repository: JobRepository;
  runner: JobRunner;
  jobName: string;
  extra?: MetricSource[];
}) {
  return async (): Promise<string> => {
    const lines: string[] = [];
    const recent = await deps.repository.list({ limit: 100 });
    lines.push("# HELP item_sync_job_executions Job executions among the last 100, by status.");
    lines.push("# TYPE item_sync_job_executions gauge");
    for (const status of JOB_STATUSES) {
      lines.push(
        `item_sync_job_executions{status="${status}"} ${recent.filter((e) => e.status === status).length}`,
      );
    }
    const running = deps.runner.active()[0] ?? (await deps.repository.running(deps.jobName));
    lines.push("# HELP item_sync_current_execution_id Id of the running execution, 0 when none.");
    lines.push("# TYPE item_sync_current_execution_id gauge");
    lines.push(`item_sync_current_execution_id ${running?.id ?? 0}`);
    lines.push("# HELP item_sync_current_execution_progress Counts of the running execution.");
    lines.push("# TYPE item_sync_current_execution_progress gauge");
    for (const [name, value] of Object.entries(running?.counts ?? {})) {
      lines.push(`item_sync_current_execution_progress{count="${name}"} ${value}`);
    }
    for (const source of deps.extra ?? []) lines.push((await source()).trimEnd());
    return `${lines.join("\n")}\n`;
  };
}

/** One metric family in Prometheus text format. */
export function family(
  name: string,
  type: "counter" | "gauge",
  help: string,
  samples: { labels?: Record<string, string>; value: number }[],
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const s of samples) {
    const labels = Object.entries(s.labels ?? {})
      .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
      .join(",");
    lines.push(`${name}${labels ? `{${labels}}` : ""} ${s.value}`);
  }
  return lines.join("\n");
}
