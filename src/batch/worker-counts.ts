/**
 * Counts of an execution that the ingest workers, not the step, contribute: monitor-item runs in
 * the workers, maybe in another process and after the scan has ended, so what it does for an
 * execution is added to the execution's row in the database where every reader (the API, the
 * dashboard, `jobs show`) finds it. Only hooksAdopted for now.
 */
import type { Db } from "../db/client.ts";
import { addHooksAdopted } from "./sql.ts";

export interface WorkerCounts {
  /** A legacy hook was adopted for the execution that published the monitor-item. */
  hookAdopted(executionId: number): Promise<void>;
}

export function createWorkerCounts(db: Db): WorkerCounts {
  return {
    hookAdopted: (executionId) => addHooksAdopted(db, executionId, 1),
  };
}
