/**
 * Consumer plumbing shared by the ingest workers: prefetch-bounded delivery, strict parsing,
 * bounded retries with backoff, and dead-lettering with the reason on the message.
 *
 * For each delivery:
 *   - a body `parseMessage` refuses (or a type the queue does not take) is dead-lettered at once;
 *   - the handler runs; an error it throws is retried in process, with jittered exponential
 *     backoff, while `isRetryable(err)` and fewer than `maxAttempts` attempts were made; then, or at
 *     once for a non-retryable error, the message is dead-lettered;
 *   - success acks.
 * Dead-lettering republishes the message (same body and properties) to `{exchange}.dlx` with the
 * queue's name as routing key — it lands in `{queue}.dead` — adding headers
 * `x-item-sync-reason`, `x-item-sync-attempts`, `x-item-sync-queue`, `x-item-sync-routing-key`,
 * `x-item-sync-dead-lettered-at`; the original is acked only after that publish is confirmed. If
 * the republish fails, the original is rejected without requeue so the broker's own dead-lettering
 * (queue argument `x-dead-letter-exchange`) still moves it to `{queue}.dead`; the reason is then in
 * the log line only. When the broker refuses the republish because `{queue}.dead` is full
 * (AMQP_DEAD_LETTER_MAX_LENGTH, `x-overflow: reject-publish`), the refusal is counted
 * (`item_sync_dead_letters_refused_total`), logged at most once a minute per queue, and the
 * message goes back to its work queue after a pause, to be dead-lettered once there is room.
 * Nothing is requeued in a tight loop and nothing is dropped.
 *
 * Attempts are counted in process. A message whose handling stops the worker (a crash, an OOM
 * kill, a lost channel) comes back with a fresh budget each time; on a quorum queue the broker
 * counts those deliveries and dead-letters the message past the queue's `x-delivery-limit`
 * (topology.ts). Classic queues (RabbitMQ 3.10) carry no delivery count, only the `redelivered`
 * flag, so it would come back for ever: for them, with `redeliveries`, each
 * redelivered message is counted in a ledger shared by every worker (the database); past
 * `redeliveries.max` it is dead-lettered without running the handler again. A settled message
 * leaves the ledger.
 *
 * `outcomes` hears of each message's fate for good: a success, a dead letter sent by us, and — on
 * a quorum queue whose delivery limit it is given — the broker's last delivery, before its handler
 * runs (if that delivery does not settle, the broker dead-letters the message where no code of
 * ours can see it).
 *
 * With tracing on, a delivery is a consumer span continuing its publisher's trace, and each
 * handler attempt a span inside it (consume-span.ts).
 */
import { randomUUID } from "node:crypto";
import { type AsyncMessage, ConsumerStatus, type Envelope } from "rabbitmq-client";
import { AppError, coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import {
  consumerDeadLettered,
  consumerDeadLetteredAgain,
  consumerHandleDuration,
  consumerInFlight,
  consumerMessages,
  consumerRetries,
  deadLettersRefused,
} from "../lib/telemetry.ts";
import { MINUTE, SECOND, sleep } from "../lib/time.ts";
import type { Broker } from "./broker.ts";
import { createConfirmedSender } from "./confirmed-sender.ts";
import {
  type DeliveryOutcome,
  describeDelivery,
  inConsumeSpan,
  inHandlerSpan,
  noteDeadLetter,
} from "./consume-span.ts";
import { type ItemMessage, type ItemMessageType, MalformedMessageError, parseMessage } from "./messages.ts";

export const DEAD_LETTER_HEADERS = {
  reason: "x-item-sync-reason",
  attempts: "x-item-sync-attempts",
  queue: "x-item-sync-queue",
  routingKey: "x-item-sync-routing-key",
  deadLetteredAt: "x-item-sync-dead-lettered-at",
  id: "x-item-sync-dead-letter-id",
  /** `malformed` (refused by the parser), else the failure's error code when it has one
   *  (`ITEM_QUARANTINED`, `GITLAB_ERROR`, …): what `item-sync dead replay` sorts by */
  kind: "x-item-sync-kind",
} as const;

/** Set by `item-sync dead replay` on the message it puts back (dead-letters.ts). */
export const REPLAYED_HEADER = "x-item-sync-replayed-at";

export interface HandlerContext {
  /** 1 for the first attempt */
  attempt: number;
  messageId: string | undefined;
  redelivered: boolean;
  /** aborted when the consumer closes: stop early if you can */
  signal: AbortSignal;
  logger: Logger;
}

export type MessageHandler = (message: ItemMessage, context: HandlerContext) => Promise<void>;

/** Counts, across processes, the deliveries of messages that came back unsettled. */
export interface RedeliveryLedger {
  /** Records one more redelivery of the message; returns how many it has had so far. */
  record(queue: string, messageId: string, now?: Date): Promise<number>;
  /** The message was settled (acked or dead-lettered): forget it. */
  forget(queue: string, messageId: string): Promise<void>;
}

export interface ConsumeOptions {
  /** messages delivered and handled at once */
  prefetch: number;
  /** handler attempts per delivery, at least 1 */
  maxAttempts: number;
  /** first retry delay; doubles each attempt, jittered, capped by maxBackoffMs (default 30 s) */
  backoffMs: number;
  maxBackoffMs?: number;
  /** message types this queue takes; any other is dead-lettered as malformed. Default: all */
  accept?: readonly ItemMessageType[];
  /** default: `err.retryable` when the error has one; else false for AppErrors and
   *  MalformedMessageError, true for anything else (unknown failures get the bounded retries) */
  isRetryable?: (err: Error) => boolean;
  /** how long a message whose dead letter the full `.dead` queue refused waits before it goes
   *  back to its work queue (default 5 s) */
  deadQueueFullPauseMs?: number;
  /** cross-process count of redeliveries; a message redelivered more than `max` times is
   *  dead-lettered without running the handler. Default: none (attempts counted in process only) */
  redeliveries?: { ledger: RedeliveryLedger; max: number };
  /**
   * Failures that mean the upstream refuses us altogether (GitLab refusing the token): the
   * message waits, unacked, instead of using up its attempts, and no handler runs until the
   * gate opens again. See src/ingest/gitlab-gate.ts.
   */
  gate?: {
    isRefusal(err: Error): boolean;
    report(err: Error): Promise<"token" | "message">;
    whenOpen(signal: AbortSignal): Promise<void>;
  };
  /** Told what became of each parsed message for good (a project's status shows its dead letters). */
  outcomes?: MessageOutcomes;
  /**
   * The queue's `x-delivery-limit` (quorum queues): the delivery whose `x-delivery-count` reaches
   * it is the broker's last; `outcomes` hears of it before the handler runs, since if that
   * delivery does not settle either the broker dead-letters the message and nothing of ours runs.
   */
  deliveryLimit?: number;
}

export interface DeadLetterNotice {
  queue: string;
  messageId: string | null;
  reason: string;
  attempts: number;
  /** `item-sync`: republished to `{queue}.dead` now; `broker`: its last delivery, dead-lettered if it does not settle */
  by: "item-sync" | "broker";
  at: Date;
}

/** Where a consumer reports the fate of its messages; a failure to report is logged, never fatal. */
export interface MessageOutcomes {
  deadLettered(message: ItemMessage, notice: DeadLetterNotice): Promise<void>;
  handled(message: ItemMessage): Promise<void>;
}

export interface ConsumerStats {
  /** handler succeeded */
  handled: number;
  /** handler failed for good: dead-lettered after its last attempt */
  failed: number;
  /** refused by the parser */
  malformed: number;
  /** sent to `{queue}.dead` (failed + malformed) */
  deadLettered: number;
  /** handler attempts that were retried */
  retried: number;
  inFlight: number;
}

export interface QueueConsumer {
  readonly queue: string;
  stats(): ConsumerStats;
  /** Stops deliveries, waits for in-flight handlers (retry waits are cut short and their messages
   *  go back to the queue), then closes the channels. Idempotent. */
  close(): Promise<void>;
}

export function defaultIsRetryable(err: Error): boolean {
  const flag = (err as { retryable?: unknown }).retryable;
  if (typeof flag === "boolean") return flag;
  return !(err instanceof AppError || err instanceof MalformedMessageError);
}

export function createConsumer(
  broker: Broker,
  queue: string,
  handler: MessageHandler,
  options: ConsumeOptions,
  logger: Logger,
): QueueConsumer {
  const log = logger.child({ component: "consumer", queue });
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  const prefetch = Math.max(1, Math.floor(options.prefetch));
  const maxBackoffMs = options.maxBackoffMs ?? 30 * SECOND;
  const isRetryable = options.isRetryable ?? defaultIsRetryable;
  const accept = new Set<string>(options.accept ?? []);
  const { topology } = broker;
  const counters = { handled: 0, failed: 0, malformed: 0, deadLettered: 0, retried: 0 };
  let inFlight = 0;
  const abort = new AbortController();
  const deadLetters = createConfirmedSender(
    broker.connection,
    topology,
    (m) => {
      const id = m.headers?.[DEAD_LETTER_HEADERS.id];
      return typeof id === "string" ? id : undefined;
    },
    log,
  );

  const fullPauseMs = options.deadQueueFullPauseMs ?? 5 * SECOND;
  let fullReportedAt = Number.NEGATIVE_INFINITY;
  let fullSinceReport = 0;
  /** The `.dead` queue refused a dead letter: count it, say so (not for each), keep the message. */
  const deadQueueFull = async (msg: AsyncMessage, reason: string): Promise<ConsumerStatus> => {
    deadLettersRefused.inc({ queue });
    fullSinceReport++;
    if (Date.now() - fullReportedAt >= MINUTE) {
      log.error(
        `${queue}.dead is full (AMQP_DEAD_LETTER_MAX_LENGTH): dead letters are refused and stay in ${queue} until it has room; inspect and empty it (item-sync dead list / replay)`,
        { messageId: msg.messageId, reason, refusedSinceLastReport: fullSinceReport },
      );
      fullReportedAt = Date.now();
      fullSinceReport = 0;
    }
    await sleep(fullPauseMs, abort.signal);
    return ConsumerStatus.REQUEUE;
  };

  /** Tells `options.outcomes`; its failure costs the record, never the message. */
  const report = async (
    what: string,
    messageId: string | undefined,
    fn: (o: MessageOutcomes) => Promise<void>,
  ) => {
    if (!options.outcomes) return;
    try {
      await fn(options.outcomes);
    } catch (thrown) {
      log.warn(`could not record ${what}`, { messageId, err: coerceError(thrown) });
    }
  };

  /** Counts a dead letter once per message: a replayed one that fails again is counted apart. */
  const countDeadLetter = (msg: AsyncMessage) => {
    counters.deadLettered++;
    if (msg.headers?.[REPLAYED_HEADER] !== undefined) consumerDeadLetteredAgain.inc({ queue });
    else consumerDeadLettered.inc({ queue });
  };

  const deadLetter = async (
    msg: AsyncMessage,
    reason: string,
    attempts: number,
    kind: string | undefined,
    message?: ItemMessage,
  ): Promise<ConsumerStatus> => {
    const status = await sendDeadLetter(msg, reason, attempts, kind);
    if (message && status !== ConsumerStatus.REQUEUE) {
      await report("the dead letter", msg.messageId, (o) =>
        o.deadLettered(message, {
          queue,
          messageId: msg.messageId ?? null,
          reason,
          attempts,
          by: "item-sync",
          at: new Date(),
        }),
      );
    }
    return status;
  };

  const sendDeadLetter = async (
    msg: AsyncMessage,
    reason: string,
    attempts: number,
    kind: string | undefined,
  ): Promise<ConsumerStatus> => {
    noteDeadLetter(reason);
    const id = randomUUID();
    const envelope: Envelope = {
      ...definedProperties(msg),
      exchange: topology.deadLetterExchange,
      routingKey: queue,
      durable: true,
      headers: {
        ...msg.headers,
        [DEAD_LETTER_HEADERS.reason]: reason.slice(0, 2000),
        [DEAD_LETTER_HEADERS.attempts]: attempts,
        [DEAD_LETTER_HEADERS.queue]: queue,
        [DEAD_LETTER_HEADERS.routingKey]: msg.routingKey,
        [DEAD_LETTER_HEADERS.deadLetteredAt]: new Date().toISOString(),
        [DEAD_LETTER_HEADERS.id]: id,
        ...(kind !== undefined ? { [DEAD_LETTER_HEADERS.kind]: kind } : {}),
      },
    };
    try {
      await deadLetters.send(envelope, rawBody(msg), id);
      countDeadLetter(msg);
      return ConsumerStatus.ACK;
    } catch (thrown) {
      if ((thrown as { code?: unknown })?.code === "NACK") return deadQueueFull(msg, reason);
      countDeadLetter(msg);
      log.error("republishing to the dead queue failed; rejecting so the broker dead-letters it", {
        messageId: msg.messageId,
        reason,
        err: coerceError(thrown),
      });
      return ConsumerStatus.DROP;
    }
  };

  const processDelivery = async (msg: AsyncMessage): Promise<ConsumerStatus> => {
    const messageId = msg.messageId;
    let message: ItemMessage;
    try {
      message = parseMessage(msg.body);
      if (accept.size > 0 && !accept.has(message.type)) {
        throw new MalformedMessageError(`type ${message.type} does not belong on queue ${queue}`);
      }
    } catch (thrown) {
      const reason = thrown instanceof MalformedMessageError ? thrown.message : coerceError(thrown).message;
      counters.malformed++;
      consumerMessages.inc({ queue, outcome: "malformed" });
      log.warn("malformed message dead-lettered", { messageId, routingKey: msg.routingKey, reason });
      return deadLetter(msg, reason, 0, "malformed");
    }

    describeDelivery(message);
    const msgLog = log.child({
      messageId,
      projectId: message.projectId,
      type: message.type,
      ...(message.jobExecutionId !== null ? { executionId: message.jobExecutionId } : {}),
    });
    const limit = options.deliveryLimit;
    const count = deliveryCount(msg);
    if (limit !== undefined && count >= limit) {
      const reason =
        `its last delivery (x-delivery-count ${count}, AMQP_DELIVERY_LIMIT=${limit}) did not settle: the broker ` +
        `dead-letters it to ${queue}.dead — every worker handling it stopped or lost its channel (a crash, a kill, a broker connection loss)`;
      await report("the last delivery", messageId, (o) =>
        o.deadLettered(message, {
          queue,
          messageId: messageId ?? null,
          reason,
          attempts: count + 1,
          by: "broker",
          at: new Date(),
        }),
      );
    }
    const redeliveries = options.redeliveries;
    if (!redeliveries || !msg.redelivered || !messageId) return runHandler(msg, message, msgLog);
    const { ledger } = redeliveries;

    let deliveries = 0;
    try {
      deliveries = await ledger.record(queue, messageId);
    } catch (thrown) {
      msgLog.warn("could not count the redelivery; handling the message anyway", {
        err: coerceError(thrown),
      });
    }
    let status: ConsumerStatus;
    if (deliveries > redeliveries.max) {
      counters.failed++;
      consumerMessages.inc({ queue, outcome: "failed" });
      const reason =
        `redelivered ${deliveries} times without being settled: every worker handling it stopped or ` +
        "lost its channel before finishing (a crash, a kill, a broker connection loss)";
      msgLog.error("message dead-lettered", { redeliveries: deliveries, reason });
      status = await deadLetter(msg, reason, 0, "redelivered", message);
    } else {
      status = await runHandler(msg, message, msgLog);
    }
    if (status !== ConsumerStatus.REQUEUE) {
      await ledger.forget(queue, messageId).catch((thrown: unknown) => {
        msgLog.warn("could not clear the redelivery count of a settled message", {
          err: coerceError(thrown),
        });
      });
    }
    return status;
  };

  const runHandler = async (
    msg: AsyncMessage,
    message: ItemMessage,
    msgLog: Logger,
  ): Promise<ConsumerStatus> => {
    const messageId = msg.messageId;
    for (let attempt = 1; ; attempt++) {
      await options.gate?.whenOpen(abort.signal);
      if (abort.signal.aborted) return ConsumerStatus.REQUEUE;
      const startedAt = performance.now();
      try {
        await inHandlerSpan(message, messageId, attempt, () =>
          handler(message, {
            attempt,
            messageId,
            redelivered: msg.redelivered,
            signal: abort.signal,
            logger: msgLog.child({ attempt }),
          }),
        );
        consumerHandleDuration.observe({ queue }, (performance.now() - startedAt) / 1000);
        counters.handled++;
        consumerMessages.inc({ queue, outcome: "handled" });
        await report("the success", messageId, (o) => o.handled(message));
        return ConsumerStatus.ACK;
      } catch (thrown) {
        consumerHandleDuration.observe({ queue }, (performance.now() - startedAt) / 1000);
        const err = coerceError(thrown);
        // shutting down: the message goes back to the queue for another worker, not to .dead
        if (abort.signal.aborted) return ConsumerStatus.REQUEUE;
        if (options.gate?.isRefusal(err) && (await options.gate.report(err)) === "token") {
          msgLog.warn("upstream refuses our credentials: message held until it accepts them again", { err });
          attempt--; // not this message's failure: its attempts are not used up
          continue;
        }
        const retryable = isRetryable(err);
        if (!retryable || attempt >= maxAttempts) {
          counters.failed++;
          consumerMessages.inc({ queue, outcome: "failed" });
          const reason = `${retryable ? `failed after ${attempt} attempt(s)` : "non-retryable error"}: ${describe(err)}`;
          msgLog.error("message dead-lettered", { attempt, reason });
          const code = (err as { code?: unknown }).code;
          return deadLetter(msg, reason, attempt, typeof code === "string" ? code : undefined, message);
        }
        counters.retried++;
        consumerRetries.inc({ queue });
        const delay = backoff(options.backoffMs, maxBackoffMs, attempt);
        msgLog.warn("handler failed; retrying", { attempt, maxAttempts, delayMs: Math.round(delay), err });
        await sleep(delay, abort.signal);
      }
    }
  };

  const consumer = broker.connection.createConsumer(
    {
      queue,
      queueOptions: queueOptionsFor(broker, queue),
      qos: { prefetchCount: prefetch },
      concurrency: prefetch,
      requeue: true, // only reached if our own code throws: the message is not lost
    },
    async (msg) => {
      inFlight++;
      consumerInFlight.inc({ queue });
      try {
        return await inConsumeSpan(queue, msg, () => processDelivery(msg), outcomeOf);
      } finally {
        inFlight--;
        consumerInFlight.dec({ queue });
      }
    },
  );
  consumer.on("error", (thrown: unknown) => {
    if (!abort.signal.aborted)
      log.warn("consumer error; it recovers on its own", { err: coerceError(thrown) });
  });

  let closing: Promise<void> | null = null;
  const close = async () => {
    abort.abort();
    await consumer.close();
    await deadLetters.close().catch(() => {});
  };
  const result: QueueConsumer = {
    queue,
    stats: () => ({ ...counters, inFlight }),
    close: () => {
      untrack();
      closing ??= close();
      return closing;
    },
  };
  const untrack = broker.track(result);
  return result;
}

/** The queue's declare parameters from the topology (the arguments must match exactly); a queue
 *  outside it, e.g. a `.dead` queue read by an operator tool, is only checked to exist. */
function queueOptionsFor(broker: Broker, queue: string) {
  const declared = broker.topology.queueDeclares.find((q) => q.queue === queue);
  return declared ? { durable: declared.durable, arguments: declared.arguments } : { passive: true };
}

/** The broker's count of earlier deliveries that came back unsettled (quorum queues); 0 when absent. */
function deliveryCount(msg: AsyncMessage): number {
  const raw: unknown = msg.headers?.["x-delivery-count"];
  const n = typeof raw === "bigint" ? Number(raw) : typeof raw === "number" ? raw : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** A delivery's end as its span records it (a dead letter is acked once the republish is confirmed). */
function outcomeOf(status: ConsumerStatus): DeliveryOutcome {
  return status === ConsumerStatus.ACK ? "ack" : status === ConsumerStatus.REQUEUE ? "requeue" : "rejected";
}

function backoff(baseMs: number, maxMs: number, attempt: number): number {
  const exp = Math.min(maxMs, Math.max(0, baseMs) * 2 ** (attempt - 1));
  return exp / 2 + (Math.random() * exp) / 2;
}

function describe(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? `${code}: ${err.message}` : `${err.name}: ${err.message}`;
}

/** The bytes as received: rabbitmq-client hands JSON bodies over already parsed. */
function rawBody(msg: AsyncMessage): Buffer {
  const body: unknown = msg.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  return Buffer.from(JSON.stringify(body) ?? "", "utf8");
}

function definedProperties(msg: AsyncMessage): Partial<Envelope> {
  const out: Partial<Envelope> = {};
  if (msg.contentType !== undefined) out.contentType = msg.contentType;
  if (msg.contentEncoding !== undefined) out.contentEncoding = msg.contentEncoding;
  if (msg.type !== undefined) out.type = msg.type;
  if (msg.appId !== undefined) out.appId = msg.appId;
  if (msg.messageId !== undefined) out.messageId = msg.messageId;
  if (msg.correlationId !== undefined) out.correlationId = msg.correlationId;
  if (msg.timestamp !== undefined) out.timestamp = msg.timestamp;
  return out;
}
