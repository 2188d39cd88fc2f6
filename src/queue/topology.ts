/**
 * The broker objects of the contract, as declare parameters for rabbitmq-client.
 *
 *   exchange `{exchange}` (topic, durable)
 *     ├─ item.monitor → `{monitorQueue}` ─┐
 *     ├─ item.update  → `{updateQueue}`  ─┼─ dead letters → `{exchange}.dlx` (direct, durable)
 *     └─ item.delete  → `{deleteQueue}`  ─┘     └─ routing key `{queue}` → `{queue}.dead`
 *
 * The DLX is a direct exchange and every work queue sets `x-dead-letter-routing-key` to its own
 * name: whatever routing key a message arrived with (a topic key, or a queue name through the
 * default exchange), a rejected message lands in exactly that queue's `.dead` queue. The original
 * routing key stays visible in the broker's `x-death` header and in our `x-item-sync-*` headers.
 *
 * Queue type (AMQP_QUEUE_TYPE): `quorum` by default — replicated on the cluster's nodes, so losing
 * one node loses no queue. The broker counts deliveries (`x-delivery-count`) and dead-letters a
 * message delivered `x-delivery-limit` times, at-least-once (`x-dead-letter-strategy`, which
 * needs `x-overflow: reject-publish`), so a message that keeps killing its workers ends in `.dead`
 * without any bookkeeping of ours. The `.dead` queues are quorum queues too: a classic queue on a
 * lost node would make re-declaring the topology fail after a reconnect. `classic` keeps the
 * unreplicated queues of earlier releases (and their redelivery ledger, see consumer.ts).
 *
 * The `.dead` queues are bounded: at most AMQP_DEAD_LETTER_MAX_LENGTH messages
 * (`x-max-length`), and beyond, new dead letters are refused (`x-overflow: reject-publish`),
 * never the oldest dropped: the consumer that republishes a dead letter sees the refusal, counts
 * it (`item_sync_dead_letters_refused_total`, an alert) and puts the message back in its work
 * queue (consumer.ts), and the broker's own at-least-once dead-lettering of quorum queues keeps
 * it in the work queue. Nothing is dropped, and nothing can fill the broker through them.
 *
 * Declaring the same arguments again is idempotent, which is why publishers and consumers re-run
 * these declarations after every reconnect; different arguments (another type, another delivery
 * limit) are refused by the broker with PRECONDITION_FAILED — see broker.ts, which also accepts a
 * `.dead` queue an earlier release declared without the bound (legacyDeadQueueArguments).
 */
import type { AmqpConfig } from "../config/config.ts";
import { type ItemMessageType, MESSAGE_TYPES, ROUTING_KEYS } from "./messages.ts";

export interface ExchangeDeclare {
  exchange: string;
  type: "topic" | "direct";
  durable: true;
}
export interface QueueDeclare {
  queue: string;
  durable: true;
  arguments?: Record<string, string | number>;
}
export interface QueueBinding {
  exchange: string;
  queue: string;
  routingKey: string;
}

export interface Topology {
  exchange: string;
  deadLetterExchange: string;
  /** work queue per message type */
  queues: Record<ItemMessageType, string>;
  exchanges: ExchangeDeclare[];
  queueDeclares: QueueDeclare[];
  bindings: QueueBinding[];
}

export function deadLetterExchangeName(exchange: string): string {
  return `${exchange}.dlx`;
}

export function deadQueueName(queue: string): string {
  return `${queue}.dead`;
}

/** AMQP_DEAD_LETTER_MAX_LENGTH's default: dead letters kept per `.dead` queue. */
export const DEFAULT_DEAD_LETTER_MAX_LENGTH = 100_000;

/** A `.dead` queue's arguments: its type's, and the bound with refusal beyond it. */
export function deadQueueArguments(
  config: Pick<AmqpConfig, "queueType" | "deliveryLimit" | "deadLetterMaxLength">,
): Record<string, string | number> {
  return {
    ...queueTypeArguments(config, "dead"),
    "x-max-length": config.deadLetterMaxLength ?? DEFAULT_DEAD_LETTER_MAX_LENGTH,
    "x-overflow": "reject-publish",
  };
}

/** What releases before the bound declared a `.dead` queue with (accepted, with a warning). */
export function legacyDeadQueueArguments(
  config: Pick<AmqpConfig, "queueType" | "deliveryLimit">,
): Record<string, string | number> {
  return queueTypeArguments(config, "dead");
}

/** What a queue of each type is declared with, besides its dead-lettering. */
export function queueTypeArguments(
  config: Pick<AmqpConfig, "queueType" | "deliveryLimit">,
  role: "work" | "dead",
): Record<string, string | number> {
  if (config.queueType === "classic") return {};
  if (role === "dead") return { "x-queue-type": "quorum" };
  return {
    "x-queue-type": "quorum",
    "x-delivery-limit": config.deliveryLimit,
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
  };
}

export function createTopology(
  config: Pick<
    AmqpConfig,
    | "exchange"
    | "monitorQueue"
    | "updateQueue"
    | "deleteQueue"
    | "queueType"
    | "deliveryLimit"
    | "deadLetterMaxLength"
  >,
): Topology {
  const dlx = deadLetterExchangeName(config.exchange);
  const queues: Record<ItemMessageType, string> = {
    [MESSAGE_TYPES.monitor]: config.monitorQueue,
    [MESSAGE_TYPES.update]: config.updateQueue,
    [MESSAGE_TYPES.delete]: config.deleteQueue,
  };
  const exchanges: ExchangeDeclare[] = [
    { exchange: config.exchange, type: "topic", durable: true },
    { exchange: dlx, type: "direct", durable: true },
  ];
  const queueDeclares: QueueDeclare[] = [];
  const bindings: QueueBinding[] = [];
  for (const [type, queue] of Object.entries(queues) as [ItemMessageType, string][]) {
    queueDeclares.push({
      queue,
      durable: true,
      arguments: {
        ...queueTypeArguments(config, "work"),
        "x-dead-letter-exchange": dlx,
        "x-dead-letter-routing-key": queue,
      },
    });
    queueDeclares.push({ queue: deadQueueName(queue), durable: true, arguments: deadQueueArguments(config) });
    bindings.push({ exchange: config.exchange, queue, routingKey: ROUTING_KEYS[type] });
    bindings.push({ exchange: dlx, queue: deadQueueName(queue), routingKey: queue });
  }
  return { exchange: config.exchange, deadLetterExchange: dlx, queues, exchanges, queueDeclares, bindings };
}
