/**
 * Publishes item messages with the contract's properties, publisher confirms and the mandatory
 * flag. `publish()` may be called thousands of times at once: every call is its own in-flight
 * publish on one shared confirm channel, so throughput comes from many outstanding confirms, never
 * from one-at-a-time waits.
 *
 * A publish resolves only when the broker confirmed AND routed the message. It rejects with an
 * `UpstreamError`:
 *   UNROUTABLE          the broker returned it (no queue bound to the routing key) — not retryable
 *   BROKER_UNAVAILABLE  the broker was lost and did not come back within `reconnectTimeoutMs`
 *                       (counted from when the loss was seen, or from the call, whichever is first)
 *   BROKER_NACK         the broker kept refusing it (nack) for `reconnectTimeoutMs` (a quorum
 *                       queue nacks while it elects a leader: those nacks are waited out)
 *   BROKER_REJECTED     the broker refused the channel (access, precondition) — not retryable
 *   PUBLISHER_CLOSED    `close()` was called before it could be published
 * While the connection is down, publishes wait for it; a publish whose channel died before its
 * confirm is sent again after reconnection, so a consumer may see a message twice (consumers are
 * idempotent, per the contract).
 *
 * With tracing on, each publish is a producer span from the call to its confirm, and the
 * message carries that span's W3C `traceparent` (and `tracestate`) in its AMQP headers.
 */
import type { Envelope } from "rabbitmq-client";
import { coerceError, UpstreamError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import {
  ATTR_EXECUTION_ID,
  ATTR_MESSAGE_ID,
  ATTR_MESSAGE_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_RABBITMQ_ROUTING_KEY,
  ATTR_MESSAGING_SYSTEM,
  ATTR_PROJECT_ID,
  MESSAGING_SYSTEM_RABBITMQ,
} from "../lib/semconv.ts";
import {
  messagesConfirmed,
  messagesFailed,
  messagesPublished,
  messagesResent,
  publishDuration,
} from "../lib/telemetry.ts";
import { SECOND, sleep } from "../lib/time.ts";
import { failSpan, KIND, type Span, startSpan, traceHeaders } from "../lib/tracing.ts";
import type { Broker } from "./broker.ts";
import { createConfirmedSender, isUnroutable } from "./confirmed-sender.ts";
import { APP_ID, encodeMessage, type OutgoingMessage } from "./messages.ts";

export interface PublisherStats {
  /** confirmed and routed */
  confirmed: number;
  /** rejected for good (any code above) */
  failed: number;
  /** attempts sent again after a channel or connection loss */
  resent: number;
  inFlight: number;
}

export interface PublishOptions {
  /** Runs synchronously right before each send attempt, after any wait for the broker; a throw
   *  rejects the publish with that error and nothing is sent (the sync job's lease check). */
  gate?: () => void;
}

export interface Publisher {
  publish(message: OutgoingMessage, options?: PublishOptions): Promise<void>;
  /** Publishes all at once; resolves when every one is confirmed, else rejects with the first
   *  error — only after every publish has settled, so nothing is left in flight. */
  publishAll(messages: readonly OutgoingMessage[]): Promise<void>;
  stats(): PublisherStats;
  /** Rejects publishes still waiting for the broker, waits for those awaiting a confirm, then
   *  closes the channel. Idempotent. */
  close(): Promise<void>;
}

const MAX_NACKS = 3;
/** refusals of one publish after which it is sent on a new channel */
const NACKS_PER_CHANNEL = 5;
/** how long close() waits for publishes awaiting a confirm before closing the channel anyway */
const CLOSE_GRACE_MS = 5 * SECOND;
const RESEND_PAUSE_MS = 100;
/**
 * A publish with neither ack nor nack for this long is sent again on a new channel. Seen after
 * the node leading a quorum queue was killed: the channel kept publishes it had taken during the
 * election and never answered them, which stalled a sync for ever. The abandoned attempt may
 * still be confirmed later: a duplicate, absorbed by the idempotent consumers.
 */
const CONFIRM_TIMEOUT_MS = 15 * SECOND;
/** server-side refusals that another attempt cannot fix */
const PERMANENT_CODES = new Set([
  "ACCESS_REFUSED",
  "PRECONDITION_FAILED",
  "NOT_ALLOWED",
  "INVALID_PATH",
  "NOT_IMPLEMENTED",
  "SYNTAX_ERROR",
  "COMMAND_INVALID",
  "FRAME_ERROR",
]);

/**
 * The producer span of one publish (messaging semantic conventions for RabbitMQ), from the call
 * to the broker's confirm; its context travels in the message's headers (`traceparent`), so the
 * consumer's span continues the trace. Undefined without tracing.
 */
function publishSpan(exchange: string, message: OutgoingMessage): Span | undefined {
  const executionId = message.body.jobExecutionId;
  return startSpan(`publish ${exchange}`, {
    kind: KIND.producer,
    attributes: {
      [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_RABBITMQ,
      [ATTR_MESSAGING_OPERATION_TYPE]: "send",
      [ATTR_MESSAGING_OPERATION_NAME]: "publish",
      [ATTR_MESSAGING_DESTINATION_NAME]: exchange,
      [ATTR_MESSAGING_RABBITMQ_ROUTING_KEY]: message.routingKey,
      [ATTR_MESSAGING_MESSAGE_ID]: message.messageId,
      [ATTR_MESSAGE_ID]: message.messageId,
      [ATTR_MESSAGE_TYPE]: message.body.type,
      [ATTR_PROJECT_ID]: message.body.projectId,
      ...(executionId !== null ? { [ATTR_EXECUTION_ID]: executionId } : {}),
    },
  });
}

/**
 * The exact AMQP properties of the contract for one message, and the W3C trace context headers
 * when tracing is on.
 */
export function messageEnvelope(
  exchange: string,
  message: OutgoingMessage,
  headers?: Record<string, string>,
): Envelope {
  return {
    ...(headers ? { headers } : {}),
    exchange,
    routingKey: message.routingKey,
    mandatory: true,
    durable: true, // deliveryMode 2: persistent
    contentType: "application/json",
    type: message.body.type,
    appId: APP_ID,
    messageId: message.messageId,
  };
}

export function createPublisher(broker: Broker, logger: Logger): Publisher {
  const log = logger.child({ component: "publisher" });
  const newSender = () => createConfirmedSender(broker.connection, broker.topology, (m) => m.messageId, log);
  let sender = newSender();
  // Channels replaced (confirms stalled, or refusals), closed a little later or with the publisher.
  const retired: ReturnType<typeof newSender>[] = [];
  const replaceChannel = (
    stale: ReturnType<typeof newSender>,
    why: string,
    fields: Record<string, unknown>,
  ) => {
    if (sender !== stale) return; // another publish replaced it already
    log.warn(`${why}; sending on a new channel`, fields);
    sender = newSender();
    retired.push(stale);
    // closed once what it still had in flight has been answered or abandoned (CONFIRM_TIMEOUT_MS)
    const timer = setTimeout(() => {
      const i = retired.indexOf(stale);
      if (i < 0) return;
      retired.splice(i, 1);
      stale.close().catch((err) => log.debug("closing a replaced publish channel failed", { err }));
    }, CONFIRM_TIMEOUT_MS + SECOND);
    timer.unref?.();
  };
  const counters = { confirmed: 0, failed: 0, resent: 0 };
  // Publishes not yet settled, and who waits for them all to settle (close).
  let inFlight = 0;
  let drained: (() => void)[] = [];
  const settled = () => {
    inFlight--;
    if (inFlight === 0) {
      for (const wake of drained) wake();
      drained = [];
    }
  };
  const allSettled = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => drained.push(r)));
  // Metric children bound once per message type: a labelled inc() per message hashes its labels.
  const byType = new Map<
    string,
    { published: { inc(): void }; confirmed: { inc(): void }; duration: { observe(v: number): void } }
  >();
  const metricsFor = (type: string) => {
    let m = byType.get(type);
    if (!m) {
      m = {
        published: messagesPublished.labels({ type }),
        confirmed: messagesConfirmed.labels({ type }),
        duration: publishDuration.labels({ type }),
      };
      byType.set(type, m);
    }
    return m;
  };
  let closed = false;
  let closing: Promise<void> | null = null;
  let signalClosed = () => {};
  const closedSignal = new Promise<false>((resolve) => {
    signalClosed = () => resolve(false);
  });

  const closedError = () =>
    new UpstreamError("PUBLISHER_CLOSED", "the publisher is closed; message not published", {
      retryable: false,
    });

  const unavailable = (timeoutMs: number, cause?: unknown) =>
    new UpstreamError(
      "BROKER_UNAVAILABLE",
      `the message broker (RabbitMQ at AMQP_URL) was unavailable for longer than AMQP_RECONNECT_TIMEOUT (${Math.round(timeoutMs / 1000)} s): ` +
        `${broker.state().lastError ?? "not connected"}`,
      { retryable: true, cause },
    );

  const attempt = async (message: OutgoingMessage, gate?: () => void, span?: Span): Promise<void> => {
    const timeoutMs = broker.config.reconnectTimeoutMs;
    const envelope = messageEnvelope(broker.topology.exchange, message, traceHeaders(span));
    const body = encodeMessage(message.body);
    const startedAt = Date.now();
    let nacks = 0;
    let firstNackAt: number | undefined;
    let tries = 0;
    for (;;) {
      if (closed) throw closedError();
      const state = broker.state();
      if (!state.connected) {
        // the deadline runs from when the loss began, so a long outage fails new publishes too
        const deadline = Math.min(startedAt, state.since.getTime()) + timeoutMs;
        const up = await Promise.race([broker.waitForConnection(deadline - Date.now()), closedSignal]);
        if (!up) {
          throw closed || broker.closed ? closedError() : unavailable(timeoutMs);
        }
      }
      if (closed) throw closedError();
      gate?.();
      if (tries++ > 0) {
        counters.resent++;
        messagesResent.inc();
        span?.addEvent("resent", { attempt: tries, nacks });
      }
      const current = sender;
      try {
        await confirmedWithin(current.send(envelope, body, message.messageId), CONFIRM_TIMEOUT_MS);
        return;
      } catch (thrown) {
        if ((thrown as { code?: unknown })?.code === CONFIRM_TIMEOUT)
          replaceChannel(current, "a publish got no confirm for a long time", {
            timeoutMs: CONFIRM_TIMEOUT_MS,
          });
        if (isUnroutable(thrown)) throw thrown;
        const err = coerceError(thrown);
        const code = (err as { code?: unknown }).code;
        if (code === "CLOSED" || code === "CLOSING") throw closedError();
        if (typeof code === "string" && PERMANENT_CODES.has(code)) {
          throw new UpstreamError("BROKER_REJECTED", `RabbitMQ refused the publish: ${err.message}`, {
            retryable: false,
            cause: err,
          });
        }
        // A quorum queue refuses publishes while it elects a new leader (a node was lost): a
        // nack then is worth sending again for as long as a lost connection would be waited for.
        if (code === "NACK") {
          nacks++;
          firstNackAt ??= Date.now();
          if (nacks >= MAX_NACKS && Date.now() - firstNackAt >= timeoutMs) {
            throw new UpstreamError(
              "BROKER_NACK",
              `RabbitMQ refused message ${message.messageId} ${nacks} times over ${Math.round((Date.now() - firstNackAt) / 1000)} s`,
              { retryable: true, cause: err },
            );
          }
          // A channel can keep refusing after the queue has a new leader (seen on RabbitMQ 3.10
          // after the leader's node was killed): every few refusals, try a new channel.
          if (nacks % NACKS_PER_CHANNEL === 0)
            replaceChannel(current, "the broker keeps refusing a publish", {
              messageId: message.messageId,
              nacks,
            });
          await sleep(Math.min(RESEND_PAUSE_MS * 2 ** Math.min(nacks - 1, 5), 2 * SECOND));
          continue;
        }
        const lostAt = broker.state().connected ? Date.now() : broker.state().since.getTime();
        if (Date.now() - Math.min(startedAt, lostAt) >= timeoutMs) throw unavailable(timeoutMs, err);
        log.debug("publish attempt failed; sending again", { messageId: message.messageId, code, err });
        // a channel closed by the broker reopens on the next send; do not spin while it does
        await sleep(RESEND_PAUSE_MS);
      }
    }
  };

  const publish = (message: OutgoingMessage, options: PublishOptions = {}): Promise<void> => {
    const type = message.body.type;
    const metrics = metricsFor(type);
    metrics.published.inc();
    if (closed) {
      messagesFailed.inc({ type, code: "PUBLISHER_CLOSED" });
      return Promise.reject(closedError());
    }
    const startedAt = performance.now();
    const span = publishSpan(broker.topology.exchange, message);
    const p = attempt(message, options.gate, span).then(
      () => {
        counters.confirmed++;
        metrics.confirmed.inc();
        metrics.duration.observe((performance.now() - startedAt) / 1000);
        settled();
        span?.end();
      },
      (thrown) => {
        counters.failed++;
        messagesFailed.inc({ type, code: errorCode(thrown) });
        settled();
        failSpan(span, thrown);
        span?.end();
        throw thrown;
      },
    );
    inFlight++;
    return p;
  };

  const publishAll = async (messages: readonly OutgoingMessage[]): Promise<void> => {
    const results = await Promise.allSettled(messages.map((m) => publish(m)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) throw failure.reason;
  };

  const close = async () => {
    closed = true;
    signalClosed();
    if (!(await withinGrace(allSettled()))) {
      log.warn("closing the publisher with publishes still unconfirmed", { inFlight });
    }
    const closedChannel = Promise.all(
      [sender, ...retired].map((s) =>
        s.close().catch((err) => log.warn("closing the publish channel failed", { err })),
      ),
    );
    await withinGrace(closedChannel);
  };

  const publisher: Publisher = {
    publish,
    publishAll,
    stats: () => ({ ...counters, inFlight }),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
  const untrack = broker.track(publisher);
  const ownClose = publisher.close;
  publisher.close = () => {
    untrack();
    return ownClose();
  };
  return publisher;
}

const CONFIRM_TIMEOUT = "CONFIRM_TIMEOUT";

/** Rejects with code CONFIRM_TIMEOUT when `send` has neither resolved nor rejected within `ms`. */
async function confirmedWithin(send: Promise<void>, ms: number): Promise<void> {
  send.catch(() => {}); // once abandoned, its own outcome is nobody's to handle
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no confirm within ${ms / 1000} s`), { code: CONFIRM_TIMEOUT })),
      ms,
    );
  });
  try {
    await Promise.race([send, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The failure's code as a bounded label: our UpstreamError codes, else the error's name. */
function errorCode(thrown: unknown): string {
  const code = (thrown as { code?: unknown })?.code;
  if (typeof code === "string" && /^[A-Z_]{1,40}$/.test(code)) return code;
  return "OTHER";
}

/** true when `p` settled within the grace period */
async function withinGrace(p: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
  });
  try {
    return await Promise.race([p.then(() => true), grace]);
  } finally {
    clearTimeout(timer);
  }
}
