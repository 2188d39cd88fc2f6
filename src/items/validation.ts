/**
 * The Item Validation Service (ITEM_VALIDATION_URL, IMRT-ITEMS.md §4.7): after a head change,
 * `GET {url}/api/v1/validate/{item id}/{branch}`; its `validationResults` replace the item's
 * `validation_result` rows and the four count columns, in one transaction that leaves the item's
 * `updated_at` alone. A 404 means the service does not know the item: nothing changes. Any other
 * failure is the message's (retried, then dead-lettered with the reason); the item's own rows are
 * already written by then, and `sync_project.validation_pending` remembers the call is owed.
 */
import type { Db } from "../db/client.ts";
import { UpstreamError } from "../lib/errors.ts";
import { SECOND } from "../lib/time.ts";
import type { ImrtTables } from "./imrt-names.ts";
import { insertRows } from "./imrt-write.ts";

export interface ValidationResult {
  itemId: string;
  itemType: string;
  category: string;
  severity: string;
  message: string;
  detail: string;
}

export interface ItemValidator {
  /** The service's results for the item, or null when it answers 404. */
  validate(itemId: number, branch: string): Promise<ValidationResult[] | null>;
}

/** The severities counted into `item` (lower-cased); others are stored, not counted (§3.4.9). */
export const COUNTED_SEVERITIES = ["severe", "degraded", "tolerable", "benign"] as const;

export function createItemValidator(baseUrl: string, opts: { timeoutMs?: number } = {}): ItemValidator {
  const base = baseUrl.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 30 * SECOND;
  const fail = (message: string, retryable: boolean, upstreamStatus?: number, cause?: unknown) =>
    new UpstreamError("VALIDATION_SERVICE", `item validation service: ${message}`, {
      retryable,
      upstreamStatus,
      cause,
    });
  return {
    async validate(itemId, branch) {
      const url = `${base}/api/v1/validate/${itemId}/${encodeURIComponent(branch)}`;
      let res: Response;
      try {
        res = await fetch(url, {
          headers: { accept: "application/json" },
          redirect: "manual", // never follow: the answer must come from the configured service
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw fail(`no answer from ${base} (${(err as Error).message})`, true, undefined, err);
      }
      if (res.status === 404) return null;
      if (!res.ok) {
        throw fail(
          `${base} answered ${res.status} for item ${itemId}`,
          res.status >= 500 || res.status === 429,
          res.status,
        );
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch (err) {
        throw fail(`${base} answered something that is not JSON for item ${itemId}`, false, res.status, err);
      }
      const list = (body as { validationResults?: unknown } | null)?.validationResults;
      if (!Array.isArray(list)) {
        throw fail(`${base} answered without a validationResults list for item ${itemId}`, false, res.status);
      }
      const text = (v: unknown) =>
        typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
      return list.map((r: Record<string, unknown>) => ({
        itemId: text(r?.itemId),
        itemType: text(r?.itemType),
        category: text(r?.category),
        severity: text(r?.severity),
        message: text(r?.message),
        detail: text(r?.detail),
      }));
    },
  };
}

/** Replaces the item's validation rows and counts (inside the caller's transaction). */
export async function writeValidation(
  tx: Db,
  tables: ImrtTables,
  key: number,
  results: readonly ValidationResult[],
  now: Date,
): Promise<void> {
  const [item] = await tx.all<{ updated_by: string }>(
    `select updated_by from ${tables.item} where key = $1`,
    [key],
  );
  const updatedBy = item?.updated_by ?? "";
  await tx.run(`delete from ${tables.validation_result} where item_key = $1`, [key]);
  await insertRows(
    tx,
    tables.validation_result,
    [
      "item_key",
      "validation_item_id",
      "validation_item_type",
      "category",
      "severity",
      "message",
      "detail",
      "created_at",
      "updated_at",
      "updated_by",
    ],
    results.map((r) => [
      key,
      r.itemId,
      r.itemType,
      r.category,
      r.severity,
      r.message,
      r.detail,
      now,
      now,
      updatedBy,
    ]),
  );
  const count = (severity: string) => results.filter((r) => r.severity.toLowerCase() === severity).length;
  await tx.run(
    `update ${tables.item} set severe_validation_result_count = $1, degraded_validation_result_count = $2,
       tolerable_validation_result_count = $3, benign_validation_result_count = $4 where key = $5`,
    [...COUNTED_SEVERITIES.map(count), key],
  );
}
