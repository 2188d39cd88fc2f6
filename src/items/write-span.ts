/**
 * The span of the database transaction that writes (or removes) an item's IMRT rows, when
 * tracing is on: a client span with the database semantic conventions (`db.system.name`
 * postgresql or sqlite, the older `db.system` too, the operation and the `item` table), the
 * project, and the execution and message that caused the write — the last span of a webhook
 * push's trace.
 */
import type { Dialect } from "../db/client.ts";
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM,
  ATTR_DB_SYSTEM_NAME,
  ATTR_EXECUTION_ID,
  ATTR_MESSAGE_ID,
  ATTR_PROJECT_ID,
} from "../lib/semconv.ts";
import { inSpan, KIND, type Span } from "../lib/tracing.ts";
import type { EventSource } from "./projects.ts";

const SYSTEM: Record<Dialect, string> = { pg: "postgresql", sqlite: "sqlite" };

export function inWriteSpan<T>(
  write: { dialect: Dialect; operation: "write item" | "delete item"; table: string },
  projectId: number,
  source: EventSource,
  run: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  const table = write.table.replaceAll('"', "");
  return inSpan(
    `${write.operation} ${table}`,
    {
      kind: KIND.client,
      attributes: {
        [ATTR_DB_SYSTEM_NAME]: SYSTEM[write.dialect],
        [ATTR_DB_SYSTEM]: SYSTEM[write.dialect],
        [ATTR_DB_OPERATION_NAME]: write.operation,
        [ATTR_DB_COLLECTION_NAME]: table,
        [ATTR_PROJECT_ID]: projectId,
        ...(source.messageId !== null ? { [ATTR_MESSAGE_ID]: source.messageId } : {}),
        ...(source.jobExecutionId !== null ? { [ATTR_EXECUTION_ID]: source.jobExecutionId } : {}),
      },
    },
    run,
  );
}
