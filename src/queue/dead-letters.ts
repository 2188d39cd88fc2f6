/**
 * The dead queues, for operators: `item-sync dead list` shows what is in `{queue}.dead` and why,
 * leaving it there; `item-sync dead replay` puts messages back on their work queue;
 * `item-sync dead purge` removes them.
 *
 * All read with basic.get and no auto-ack. list then closes its channel, which hands every
 * message back to the dead queue unchanged. replay republishes each chosen message to its work
 * queue (default exchange, routing key = the queue: exactly that queue, whatever bindings say)
 * with publisher confirms, and acks the dead copy only after the broker confirmed the new one —
 * a crash in between leaves a duplicate, never a loss (consumers are idempotent). Messages not
 * chosen stay unacked until the channel closes, so one pass sees each message once.
 *
 * replay and purge take at most the messages the queue held when they started: a replayed
 * message that workers dead-letter again during the pass lands behind them and waits for the
 * next pass, so a pass always ends. Malformed messages and quarantined items (their item.json
 * cannot be mapped) cannot succeed by being sent round again: replay leaves them unless asked.
 */
import type { Channel, Envelope, SyncMessage } from "rabbitmq-client";
import type { Broker } from "./broker.ts";
import { DEAD_LETTER_HEADERS, REPLAYED_HEADER } from "./consumer.ts";
import { deadQueueName } from "./topology.ts";

/**
 * Why it is dead: `malformed` (the parser refused it), `quarantined` (its item.json cannot be
 * mapped: a push that fixes it brings a new update-item), `failed` (anything else: may succeed
 * once the cause is gone).
 */
export type DeadLetterKind = "malformed" | "quarantined" | "failed";

export interface DeadLetter {
  /** the work queue it came from and goes back to */
  queue: string;
  kind: DeadLetterKind;
  messageId: string | null;
  type: string | null;
  projectId: number | null;
  reason: string;
  attempts: number | null;
  deadLetteredAt: string | null;
}

/** The work queues named by `--queue` (a work queue, its `.dead` queue, or a message type), or all. */
export function chooseQueues(broker: Broker, name: string | undefined): string[] {
  const queues = Object.entries(broker.topology.queues);
  if (name === undefined) return queues.map(([, q]) => q);
  const match = queues.find(([type, q]) => name === q || name === deadQueueName(q) || name === type);
  if (!match) {
    const known = queues.map(([, q]) => q).join(", ");
    throw new Error(`--queue: "${name}" is none of item-sync's queues (${known})`);
  }
  return [match[1]];
}

function rawBody(msg: SyncMessage): Buffer {
  const body: unknown = msg.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  return Buffer.from(JSON.stringify(body) ?? "", "utf8");
}

function describe(queue: string, msg: SyncMessage): DeadLetter {
  const headers = (msg.headers ?? {}) as Record<string, unknown>;
  let projectId: number | null = null;
  try {
    const body = JSON.parse(rawBody(msg).toString("utf8")) as { projectId?: unknown };
    if (typeof body.projectId === "number") projectId = body.projectId;
  } catch {
    // not JSON: a malformed message, shown without a project
  }
  // dead-lettered by the broker itself (rejected, expired, delivery limit): x-death says why
  const death = Array.isArray(headers["x-death"])
    ? (headers["x-death"][0] as Record<string, unknown>)
    : undefined;
  const reason =
    typeof headers[DEAD_LETTER_HEADERS.reason] === "string"
      ? (headers[DEAD_LETTER_HEADERS.reason] as string)
      : death
        ? `dead-lettered by RabbitMQ: ${String(death.reason)}`
        : "unknown";
  const attempts = Number(headers[DEAD_LETTER_HEADERS.attempts]);
  const at = headers[DEAD_LETTER_HEADERS.deadLetteredAt];
  return {
    queue,
    kind: kindOf(headers[DEAD_LETTER_HEADERS.kind], reason),
    messageId: msg.messageId ?? null,
    type: msg.type ?? null,
    projectId,
    reason,
    attempts: Number.isFinite(attempts) ? attempts : null,
    deadLetteredAt: typeof at === "string" ? at : null,
  };
}

/** From the kind header; dead letters of releases before it carry only the reason text. */
function kindOf(header: unknown, reason: string): DeadLetterKind {
  if (header === "malformed" || (header === undefined && reason.startsWith("malformed message"))) {
    return "malformed";
  }
  if (header === "ITEM_QUARANTINED" || (header === undefined && reason.includes("ITEM_QUARANTINED"))) {
    return "quarantined";
  }
  return "failed";
}

/** Whether replaying alone can never make it succeed. */
export function isUnreplayable(d: DeadLetter): boolean {
  return d.kind !== "failed";
}

/** Ready messages in the dead queue of `queue` now. */
async function depth(ch: Channel, queue: string): Promise<number> {
  return (await ch.queueDeclare({ queue: deadQueueName(queue), passive: true })).messageCount;
}

async function withChannel<T>(broker: Broker, fn: (ch: Channel) => Promise<T>): Promise<T> {
  const ch = await broker.connection.acquire();
  try {
    return await fn(ch);
  } finally {
    // unacked messages go back to their dead queue, in their order
    if (ch.active) await ch.close().catch(() => {});
  }
}

/** The dead letters of `queues`, at most `limit` per queue; they stay where they are. */
export async function listDeadLetters(
  broker: Broker,
  queues: string[],
  limit = 1000,
): Promise<{ deadLetters: DeadLetter[]; counts: Record<string, number> }> {
  const deadLetters: DeadLetter[] = [];
  const counts: Record<string, number> = {};
  for (const queue of queues) {
    await withChannel(broker, async (ch) => {
      counts[queue] = await depth(ch, queue);
      for (let i = 0; i < limit; i++) {
        const msg = await ch.basicGet({ queue: deadQueueName(queue), noAck: false });
        if (!msg) break;
        deadLetters.push(describe(queue, msg));
      }
    });
  }
  return { deadLetters, counts };
}

export interface ReplayResult {
  replayed: DeadLetter[];
  /** chosen by the filter but left in their dead queue: malformed and quarantined ones */
  left: DeadLetter[];
}

/**
 * Puts the dead letters of `queues` back on their work queue — only the one with message id `id`,
 * when given; malformed and quarantined ones only with `includeUnreplayable` — taking at most the
 * messages each dead queue held at the start. Returns what was replayed and what was left.
 */
export async function replayDeadLetters(
  broker: Broker,
  queues: string[],
  filter: { id?: string; includeUnreplayable?: boolean } = {},
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: [], left: [] };
  for (const queue of queues) {
    await withChannel(broker, async (ch) => {
      await ch.confirmSelect();
      const present = await depth(ch, queue);
      for (let i = 0; i < present; i++) {
        const msg = await ch.basicGet({ queue: deadQueueName(queue), noAck: false });
        if (!msg) break;
        if (filter.id !== undefined && msg.messageId !== filter.id) continue; // stays, unacked until close
        const dead = describe(queue, msg);
        if (!filter.includeUnreplayable && isUnreplayable(dead)) {
          result.left.push(dead); // stays, unacked until close
          continue;
        }
        const headers = { ...((msg.headers ?? {}) as Record<string, unknown>) };
        for (const name of [
          ...Object.values(DEAD_LETTER_HEADERS),
          "x-death",
          "x-first-death-exchange",
          "x-first-death-queue",
          "x-first-death-reason",
        ]) {
          delete headers[name];
        }
        // workers that dead-letter it again count it apart (item_sync_consumer_dead_lettered_again_total)
        headers[REPLAYED_HEADER] = new Date().toISOString();
        const envelope: Envelope = {
          exchange: "",
          routingKey: queue,
          durable: true,
          headers,
          ...(msg.contentType !== undefined ? { contentType: msg.contentType } : {}),
          ...(msg.contentEncoding !== undefined ? { contentEncoding: msg.contentEncoding } : {}),
          ...(msg.type !== undefined ? { type: msg.type } : {}),
          ...(msg.appId !== undefined ? { appId: msg.appId } : {}),
          ...(msg.messageId !== undefined ? { messageId: msg.messageId } : {}),
          ...(msg.correlationId !== undefined ? { correlationId: msg.correlationId } : {}),
          ...(msg.timestamp !== undefined ? { timestamp: msg.timestamp } : {}),
        };
        await ch.basicPublish(envelope, rawBody(msg)); // resolves on the broker's confirm
        ch.basicAck({ deliveryTag: msg.deliveryTag });
        result.replayed.push(dead);
      }
    });
  }
  return result;
}

/**
 * Removes the dead letters of `queues` — only the malformed and quarantined ones with
 * `unreplayableOnly` — taking at most the messages each dead queue held at the start; returns
 * how many were removed from each queue.
 */
export async function purgeDeadLetters(
  broker: Broker,
  queues: string[],
  filter: { unreplayableOnly?: boolean } = {},
): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const queue of queues) {
    removed[queue] = 0;
    await withChannel(broker, async (ch) => {
      if (!filter.unreplayableOnly) {
        removed[queue] = (await ch.queuePurge({ queue: deadQueueName(queue) })).messageCount;
        return;
      }
      const present = await depth(ch, queue);
      for (let i = 0; i < present; i++) {
        const msg = await ch.basicGet({ queue: deadQueueName(queue), noAck: false });
        if (!msg) break;
        if (!isUnreplayable(describe(queue, msg))) continue; // stays
        ch.basicAck({ deliveryTag: msg.deliveryTag });
        removed[queue] = (removed[queue] ?? 0) + 1;
      }
    });
  }
  return removed;
}
