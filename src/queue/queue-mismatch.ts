/**
 * Start-up's answer to a queue that exists with other arguments than ours — another type after
 * the quorum default, another delivery limit: RabbitMQ refuses the declaration with
 * PRECONDITION_FAILED ("inequivalent arg 'x-queue-type' for queue …"), and running on would fail
 * every publish and consume. The broker names only the first differing argument, so the type is
 * probed; the message names the queue and how to migrate it (docs/cluster.md).
 */
import type { Connection } from "rabbitmq-client";
import type { AmqpConfig } from "../config/config.ts";
import { coerceError } from "../lib/errors.ts";
import type { QueueDeclare } from "./topology.ts";

type Channel = Awaited<ReturnType<Connection["acquire"]>>;

/**
 * The problem to report for a refused queue declaration, or null when the refusal is not an
 * argument mismatch (the caller rethrows it). `ch` is an open channel (the refusal closed the
 * one that made it).
 */
export async function describeQueueMismatch(
  ch: Channel,
  config: AmqpConfig,
  params: QueueDeclare,
  thrown: unknown,
): Promise<string | null> {
  const err = coerceError(thrown);
  if ((err as { code?: unknown }).code !== "PRECONDITION_FAILED") return null;
  if (!/inequivalent arg '([^']+)'/.test(err.message)) return null;
  return queueMismatch(config, params.queue, err, await existsAsClassic(ch, params));
}

/**
 * Whether a queue refused as quorum exists as a classic queue: the broker names only the first
 * argument that differs, often the dead-letter exchange of an older topology, not the type. A
 * declaration with the classic arguments is accepted exactly when they match (the queue exists,
 * so nothing is created).
 */
async function existsAsClassic(ch: Channel, params: QueueDeclare): Promise<boolean> {
  if (params.arguments?.["x-queue-type"] !== "quorum") return false;
  const classic = Object.fromEntries(
    Object.entries(params.arguments).filter(([k]) => !CLASSIC_ABSENT.has(k)),
  );
  try {
    await ch.queueDeclare({ ...params, arguments: classic });
    return true;
  } catch {
    return false;
  }
}

/** The quorum-only arguments, absent from a classic queue of the same topology. */
const CLASSIC_ABSENT = new Set(["x-queue-type", "x-delivery-limit", "x-dead-letter-strategy", "x-overflow"]);

/** The message for one queue: the type found by the probe, else the argument the broker named. */
function queueMismatch(config: AmqpConfig, queue: string, err: Error, classic: boolean): string {
  const arg = /inequivalent arg '([^']+)'/.exec(err.message)?.[1] ?? "arguments";
  if (classic) {
    return (
      `RabbitMQ queue "${queue}" exists as a classic queue but AMQP_QUEUE_TYPE=${config.queueType}. ` +
      `Migrate it as docs/cluster.md ("Migrating classic queues to quorum queues") says: stop every ` +
      `item-sync replica, let the queue drain, delete it (rabbitmqctl delete_queue ${queue}) and start ` +
      `item-sync again, which declares it as a quorum queue; or set AMQP_QUEUE_TYPE=classic to keep it`
    );
  }
  if (arg === "x-queue-type") {
    return (
      `RabbitMQ queue "${queue}" exists with another type than AMQP_QUEUE_TYPE=${config.queueType} ` +
      `(${err.message.replace(/^PRECONDITION_FAILED - /, "")}). Migrate it as docs/cluster.md ` +
      `("Migrating classic queues to quorum queues") says: stop every item-sync replica, let the ` +
      `queue drain or move its messages, delete it (rabbitmqctl delete_queue ${queue}) and start ` +
      `item-sync again, which declares it as ${config.queueType}; or set AMQP_QUEUE_TYPE to the type it has`
    );
  }
  return (
    `RabbitMQ queue "${queue}" exists with another ${arg} than item-sync declares ` +
    `(${err.message.replace(/^PRECONDITION_FAILED - /, "")})` +
    (arg === "x-delivery-limit"
      ? `: set AMQP_DELIVERY_LIMIT back to the queue's value, or re-create the queue as docs/cluster.md ("Migrating classic queues to quorum queues") says`
      : `: re-create the queue as docs/cluster.md ("Migrating classic queues to quorum queues") says`)
  );
}
