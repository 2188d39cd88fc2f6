/**
 * The database side of the consumers' redelivery count (table ingest_redelivery, see
 * src/queue/consumer.ts): one row per message that came back unsettled, shared by every worker
 * process, removed when the message is settled.
 */
import type { Db } from "../db/client.ts";
import type { RedeliveryLedger } from "../queue/consumer.ts";

export function createRedeliveryLedger(db: Db): RedeliveryLedger {
  return {
    async record(queue, messageId, now = new Date()) {
      const [row] = await db.all<{ deliveries: number }>(
        `insert into ingest_redelivery (queue, message_id, deliveries, first_seen_at, last_seen_at)
         values ($1, $2, 1, $3, $3)
         on conflict (queue, message_id)
         do update set deliveries = ingest_redelivery.deliveries + 1, last_seen_at = excluded.last_seen_at
         returning deliveries`,
        [queue, messageId, now],
      );
      return Number(row?.deliveries ?? 1);
    },
    async forget(queue, messageId) {
      await db.run("delete from ingest_redelivery where queue = $1 and message_id = $2", [queue, messageId]);
    },
  };
}
