/**
 * Ingest workers: one prefetch-bounded consumer per queue (monitor, update, delete), run by `serve`
 * (INGEST_ENABLED) and `worker`. They share the process's GitLab client, hence its pacing.
 */
import { createWorkerCounts } from "../batch/worker-counts.ts";
import type { Config } from "../config/config.ts";
import type { Db } from "../db/client.ts";
import { imrtTables } from "../items/imrt-names.ts";
import { createItemIngest } from "../items/ingest.ts";
import { createDeadLetterLog } from "../items/item-status.ts";
import { createItemValidator } from "../items/validation.ts";
import type { Logger } from "../lib/log.ts";
import { SECOND } from "../lib/time.ts";
import type { Broker } from "../queue/broker.ts";
import { createConsumer, type MessageOutcomes, type QueueConsumer } from "../queue/consumer.ts";
import { createGitlabGate, type GitlabGate } from "./gitlab-gate.ts";
import { createHandlers, type IngestCounters, type IngestGitlab } from "./handlers.ts";
import { createRedeliveryLedger } from "./redelivery-ledger.ts";

export interface Ingest {
  consumers: QueueConsumer[];
  counters: IngestCounters;
  /** Shut while GitLab refuses the token: consumers hold their messages. */
  gate: GitlabGate;
  close(): Promise<void>;
}

/** Attempts per message before it is dead-lettered with its reason. */
export const INGEST_MAX_ATTEMPTS = 5;

export async function startIngest(deps: {
  config: Config;
  broker: Broker;
  db: Db;
  gitlab: IngestGitlab & { checkAccess(): Promise<void> };
  logger: Logger;
  gateProbeIntervalMs?: number;
}): Promise<Ingest> {
  const { config, broker, logger } = deps;
  const handlers = createHandlers({
    gitlab: deps.gitlab,
    db: deps.db,
    items: createItemIngest({
      db: deps.db,
      tables: imrtTables(deps.db.dialect, config.imrtSchema),
      gitlab: deps.gitlab,
      validator: config.itemValidationUrl ? createItemValidator(config.itemValidationUrl) : undefined,
    }),
    adoptions: createWorkerCounts(deps.db),
  });
  const gate = createGitlabGate({
    probe: () => deps.gitlab.checkAccess(),
    logger,
    probeIntervalMs: deps.gateProbeIntervalMs,
  });
  // A message that failed for good stays visible on its project (GET /items/{projectId} status)
  // until a later message of its type for the project succeeds (a deletion removes them all).
  const deadLetters = createDeadLetterLog(deps.db);
  const outcomes: MessageOutcomes = {
    deadLettered: (message, notice) =>
      deadLetters.record({
        projectId: message.projectId,
        messageType: message.type,
        queue: notice.queue,
        messageId: notice.messageId,
        reason: notice.reason,
        attempts: notice.attempts,
        deadLetteredBy: notice.by,
        deadLetteredAt: notice.at,
      }),
    handled: (message) => deadLetters.clear(message.projectId, message.type),
  };
  // Each handler makes GitLab calls, so as many messages in hand as GitLab requests allowed.
  const options = {
    prefetch: config.gitlab.concurrency,
    maxAttempts: INGEST_MAX_ATTEMPTS,
    backoffMs: SECOND,
    // Redeliveries of a message that came back unsettled (its worker stopped or lost its channel)
    // before it is dead-lettered: AMQP_DELIVERY_LIMIT. Quorum queues count them in the broker
    // (x-delivery-limit); classic queues carry no count, so the database ledger does it.
    ...(config.amqp.queueType === "classic"
      ? { redeliveries: { ledger: createRedeliveryLedger(deps.db), max: config.amqp.deliveryLimit } }
      : { deliveryLimit: config.amqp.deliveryLimit }),
    gate,
    outcomes,
  };
  const consumers = [
    createConsumer(
      broker,
      config.amqp.monitorQueue,
      handlers.monitorItem,
      { ...options, accept: ["monitor-item"] },
      logger,
    ),
    createConsumer(
      broker,
      config.amqp.updateQueue,
      handlers.updateItem,
      { ...options, accept: ["update-item"] },
      logger,
    ),
    createConsumer(
      broker,
      config.amqp.deleteQueue,
      handlers.deleteItem,
      { ...options, accept: ["delete-item"] },
      logger,
    ),
  ];
  logger.info("ingest workers started", {
    queues: consumers.map((c) => c.queue),
    prefetch: options.prefetch,
  });
  return {
    consumers,
    counters: handlers.counters,
    gate,
    async close() {
      // consumers first: their abort releases the messages held at the gate (back to the queue)
      await Promise.all(consumers.map((c) => c.close()));
      gate.close();
    },
  };
}
