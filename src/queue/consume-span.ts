/**
 * The spans of a delivery (tracing on): `process {queue}`, a consumer span that continues the
 * trace of the publish that sent the message (its `traceparent` header), and inside it one
 * `handle {type}` span per handler attempt. A message published without trace context (by
 * another tool, or with tracing off) starts a trace of its own.
 */
import type { AsyncMessage } from "rabbitmq-client";
import {
  ATTR_EXECUTION_ID,
  ATTR_MESSAGE_ID,
  ATTR_MESSAGE_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_RABBITMQ_DELIVERY_TAG,
  ATTR_MESSAGING_RABBITMQ_ROUTING_KEY,
  ATTR_MESSAGING_SYSTEM,
  ATTR_PROJECT_ID,
  MESSAGING_SYSTEM_RABBITMQ,
} from "../lib/semconv.ts";
import { activeSpan, contextFrom, errorStatus, inSpan, KIND, tracingEnabled } from "../lib/tracing.ts";
import type { ItemMessage } from "./messages.ts";

/** What the consumer did with the delivery, as its span records it. */
export type DeliveryOutcome = "ack" | "requeue" | "rejected";

export function inConsumeSpan<T>(
  queue: string,
  msg: AsyncMessage,
  run: () => Promise<T>,
  outcomeOf: (result: T) => DeliveryOutcome,
): Promise<T> {
  if (!tracingEnabled()) return run();
  return inSpan(
    `process ${queue}`,
    {
      kind: KIND.consumer,
      parent: contextFrom(msg.headers),
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_RABBITMQ,
        [ATTR_MESSAGING_OPERATION_TYPE]: "process",
        [ATTR_MESSAGING_OPERATION_NAME]: "consume",
        [ATTR_MESSAGING_DESTINATION_NAME]: msg.exchange,
        [ATTR_MESSAGING_RABBITMQ_ROUTING_KEY]: msg.routingKey,
        [ATTR_MESSAGING_RABBITMQ_DELIVERY_TAG]: msg.deliveryTag,
        "item_sync.queue": queue,
        "item_sync.redelivered": msg.redelivered,
        ...(typeof msg.messageId === "string"
          ? { [ATTR_MESSAGING_MESSAGE_ID]: msg.messageId, [ATTR_MESSAGE_ID]: msg.messageId }
          : {}),
        ...(Buffer.isBuffer(msg.body) ? { [ATTR_MESSAGING_MESSAGE_BODY_SIZE]: msg.body.byteLength } : {}),
      },
    },
    async (span) => {
      const result = await run();
      const outcome = outcomeOf(result);
      span?.setAttribute("item_sync.outcome", outcome);
      if (outcome === "rejected") errorStatus(span, "message rejected");
      return result;
    },
  );
}

/** The parsed message's ids on the delivery's span. */
export function describeDelivery(message: ItemMessage): void {
  const span = activeSpan();
  if (span === undefined) return;
  span.setAttribute(ATTR_PROJECT_ID, message.projectId);
  span.setAttribute(ATTR_MESSAGE_TYPE, message.type);
  if (message.jobExecutionId !== null) span.setAttribute(ATTR_EXECUTION_ID, message.jobExecutionId);
}

/** The delivery is being dead-lettered: its span says why and is marked failed. */
export function noteDeadLetter(reason: string): void {
  const span = activeSpan();
  if (span === undefined) return;
  span.setAttribute("item_sync.dead_letter.reason", reason.slice(0, 500));
  errorStatus(span, "dead-lettered");
}

/** One handler attempt, inside the delivery's span. */
export function inHandlerSpan<T>(
  message: ItemMessage,
  messageId: string | undefined,
  attempt: number,
  run: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return run();
  return inSpan(
    `handle ${message.type}`,
    {
      attributes: {
        "item_sync.attempt": attempt,
        [ATTR_PROJECT_ID]: message.projectId,
        [ATTR_MESSAGE_TYPE]: message.type,
        ...(messageId ? { [ATTR_MESSAGE_ID]: messageId } : {}),
        ...(message.jobExecutionId !== null ? { [ATTR_EXECUTION_ID]: message.jobExecutionId } : {}),
      },
    },
    run,
  );
}
