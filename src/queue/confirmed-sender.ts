/**
 * One publish attempt with publisher confirms and the mandatory flag, where an unroutable message
 * is an error rather than a success.
 *
 * rabbitmq-client resolves `send()` on the broker's ack even when the broker returned the message
 * as unroutable; the return only surfaces as the publisher's `'basic.return'` event. The broker
 * sends `basic.return` before the matching `basic.ack`, but rabbitmq-client emits the event from a
 * `setImmediate` while the ack resolves a promise (a microtask) — so the ack is seen first. Each
 * send therefore waits one more macrotask turn after its ack before deciding: by then every return
 * that preceded the ack has been emitted. Returns are matched to sends by a key the caller reads
 * from the message properties (the messageId for item messages); sends sharing a key are matched
 * in publish order, which is the order the broker returns them in on one channel.
 */
import type { Connection, Envelope, ReturnedMessage } from "rabbitmq-client";
import { UpstreamError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { Topology } from "./topology.ts";

export interface ConfirmedSender {
  /** Resolves once the broker confirmed the message and routed it to at least one queue. */
  send(envelope: Envelope, body: Buffer, matchKey: string): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  returned: ReturnedMessage | null;
}

/** Thrown (code `UNROUTABLE`) when the broker returned a mandatory message: no queue is bound. */
export function isUnroutable(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError && err.code === "UNROUTABLE";
}

export function createConfirmedSender(
  connection: Connection,
  topology: Topology,
  keyOf: (returned: ReturnedMessage) => string | undefined,
  logger: Logger,
): ConfirmedSender {
  const pending = new Map<string, Pending[]>();
  // declaring the topology on every (re)opened channel lets a wiped broker come back usable
  const publisher = connection.createPublisher({
    confirm: true,
    maxAttempts: 1,
    exchanges: topology.exchanges,
    queues: topology.queueDeclares,
    queueBindings: topology.bindings,
  });
  publisher.on("basic.return", (returned) => {
    const key = keyOf(returned);
    const entry = key === undefined ? undefined : pending.get(key)?.find((p) => p.returned === null);
    if (entry) entry.returned = returned;
    else
      logger.warn("broker returned a message no pending publish matches", {
        key,
        routingKey: returned.routingKey,
      });
  });

  const send = async (envelope: Envelope, body: Buffer, matchKey: string) => {
    const entry: Pending = { returned: null };
    let list = pending.get(matchKey);
    if (!list) {
      list = [];
      pending.set(matchKey, list);
    }
    list.push(entry);
    try {
      await publisher.send({ ...envelope, mandatory: true }, body);
      await nextMacrotask();
    } finally {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && pending.get(matchKey) === list) pending.delete(matchKey);
    }
    const returned = entry.returned as ReturnedMessage | null; // set by the event handler meanwhile
    if (returned) {
      throw new UpstreamError(
        "UNROUTABLE",
        `message ${matchKey} to exchange "${returned.exchange}" with routing key "${returned.routingKey}" ` +
          `was returned by the broker: ${returned.replyCode} ${returned.replyText} (no queue bound)`,
        { retryable: false },
      );
    }
  };

  return { send, close: () => publisher.close() };
}

/**
 * Resolves once every basic.return of the frames read so far has been emitted. rabbitmq-client
 * emits a return from a setImmediate queued when its frame is read; acks read in the same poll
 * phase resolve at once. One wait is shared by all sends acked in one poll phase: its first hop
 * (in that phase's check phase) closes the group, its second hop runs in the next check phase,
 * after every return queued during the poll phase. One timer pair per phase, not one per message
 * (that was a visible share of the publisher's CPU per message).
 */
let turn: Promise<void> | null = null;
function nextMacrotask(): Promise<void> {
  turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = null;
      setImmediate(resolve);
    }),
  );
  return turn;
}
