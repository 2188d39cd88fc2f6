/**
 * The reliability report's "lost" and "duplicates", computed from what the run left behind: the
 * executions in the database and the update-items an independent tap received from the broker.
 *
 * A sync is one job instance: its first execution and every relaunch that resumed it (each with
 * its own execution id, so its own messageIds). Counting per instance keeps two things apart that
 * a union over every execution mixes up: a fresh instance re-publishes everything by design, and
 * an instance that completed must have published an update-item for every project by itself.
 *
 * - lost: for each instance whose last execution COMPLETED, the projects none of its executions
 *   published an update-item for; summed over instances.
 * - duplicates: within each instance, update-items beyond one per project (a resumed execution
 *   re-publishes the page its predecessor did not checkpoint: at-least-once, never zero-or-once).
 */
import { type Db, openDb } from "../../../src/db/client.ts";

export interface TapMessage {
  routingKey: string;
  body: Record<string, unknown>;
  properties: Record<string, unknown>;
}

export interface ExecutionRow {
  id: number;
  instanceId: number;
  status: string;
  restartOf: number | null;
}

export interface InstanceLedger {
  instanceId: number;
  executions: number[];
  status: string;
  published: number;
  lost: number[];
  duplicates: number;
}

export async function readExecutions(db: Db): Promise<ExecutionRow[]> {
  const rows = await db.all<Record<string, unknown>>(
    "select job_execution_id, job_instance_id, status, restart_of from batch_job_execution order by job_execution_id",
  );
  return rows.map((r) => ({
    id: Number(r.job_execution_id),
    instanceId: Number(r.job_instance_id),
    status: String(r.status),
    restartOf: r.restart_of === null || r.restart_of === undefined ? null : Number(r.restart_of),
  }));
}

/** Update-items a sync execution published, as (execution id, project id), in arrival order. */
export function syncUpdates(
  messages: readonly TapMessage[],
): Array<{ executionId: number; projectId: number }> {
  const out: Array<{ executionId: number; projectId: number }> = [];
  for (const m of messages) {
    if (m.routingKey !== "item.update") continue;
    const executionId = m.body.jobExecutionId;
    if (typeof executionId !== "number") continue; // a webhook's update-item
    out.push({ executionId, projectId: Number(m.body.projectId) });
  }
  return out;
}

/** Per job instance: what it published, what it lost (only when it COMPLETED) and its duplicates. */
export function syncLedger(
  executions: readonly ExecutionRow[],
  messages: readonly TapMessage[],
  projectIds: readonly number[],
): { lost: number; duplicates: number; instances: InstanceLedger[] } {
  const instanceOf = new Map(executions.map((e) => [e.id, e.instanceId]));
  const counts = new Map<number, Map<number, number>>(); // instance -> project -> update-items
  for (const u of syncUpdates(messages)) {
    const instance = instanceOf.get(u.executionId);
    if (instance === undefined) continue;
    const perProject = counts.get(instance) ?? new Map<number, number>();
    perProject.set(u.projectId, (perProject.get(u.projectId) ?? 0) + 1);
    counts.set(instance, perProject);
  }
  const instances: InstanceLedger[] = [];
  for (const instanceId of [...new Set(executions.map((e) => e.instanceId))]) {
    const own = executions.filter((e) => e.instanceId === instanceId);
    const status = own.at(-1)?.status ?? "?";
    const perProject = counts.get(instanceId) ?? new Map<number, number>();
    let duplicates = 0;
    for (const n of perProject.values()) duplicates += Math.max(0, n - 1);
    instances.push({
      instanceId,
      executions: own.map((e) => e.id),
      status,
      published: perProject.size,
      lost: status === "COMPLETED" ? projectIds.filter((id) => !perProject.has(id)) : [],
      duplicates,
    });
  }
  return {
    lost: instances.reduce((n, i) => n + i.lost.length, 0),
    duplicates: instances.reduce((n, i) => n + i.duplicates, 0),
    instances,
  };
}

/**
 * Webhook update-items (jobExecutionId null, messageId `{checkoutSha}:update-item:{projectId}`)
 * against the pushes the service accepted with 202, each identified by that messageId: accepted
 * pushes the broker never delivered are lost; deliveries beyond one per push are duplicates.
 */
export function pushLedger(
  accepted: readonly string[],
  messages: readonly TapMessage[],
): { lost: string[]; duplicates: number; unexpected: number } {
  const seen = new Map<string, number>();
  for (const m of messages) {
    if (m.routingKey !== "item.update" || m.body.jobExecutionId !== null) continue;
    const id = String(m.properties.messageId);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const wanted = new Set(accepted);
  let duplicates = 0;
  let unexpected = 0;
  for (const [id, n] of seen) {
    if (wanted.has(id)) duplicates += n - 1;
    else unexpected += n;
  }
  return { lost: [...wanted].filter((id) => !seen.has(id)), duplicates, unexpected };
}

/** Items written more than once for one commit (created/updated events per project and commit): the same change written twice. */
export async function duplicateWrites(db: Db): Promise<number> {
  const [row] = await db.all<{ n: number }>(
    `select coalesce(sum(n - 1), 0) as n from (
       select count(*) as n from sync_item_event where action in ('created', 'updated')
       group by project_id, commit_hash
     ) as per_change`,
  );
  return Number(row?.n ?? 0);
}

/** The per-instance ledger of a database the scenario can open (SQLite file or Postgres). */
export async function ledgerOf(
  databaseUrl: string,
  messages: readonly TapMessage[],
  projectIds: readonly number[],
): Promise<ReturnType<typeof syncLedger> & { executions: ExecutionRow[] }> {
  const db = openDb(databaseUrl);
  try {
    const executions = await readExecutions(db);
    return { ...syncLedger(executions, messages, projectIds), executions };
  } finally {
    await db.close();
  }
}

/** One line per job instance: its executions, end status, what it published, lost and duplicates. */
export function instanceLines(instances: readonly InstanceLedger[]): string[] {
  return instances.map(
    (i) =>
      `instance ${i.instanceId} (executions ${i.executions.join(",")}, ${i.status}): ${i.published} projects published, ${i.lost.length} lost${i.lost.length > 0 ? ` (${i.lost.slice(0, 10).join(", ")})` : ""}, ${i.duplicates} duplicates`,
  );
}
