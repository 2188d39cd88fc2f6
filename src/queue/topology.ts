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
 * Queues are classic (RabbitMQ 3.10 default); declaring the same arguments again is idempotent,
 * which is why publishers and consumers re-run these declarations after every reconnect.
 */
import type { AmqpConfig } from "../config.ts";
import { type ItemMessageType, MESSAGE_TYPES, ROUTING_KEYS } from "./messages.ts";

export interface ExchangeDeclare {
  exchange: string;
  type: "topic" | "direct";
  durable: true;
}
export interface QueueDeclare {
  queue: string;
  durable: true;
  arguments?: Record<string, string>;
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

export function createTopology(
  config: Pick<AmqpConfig, "exchange" | "monitorQueue" | "updateQueue" | "deleteQueue">,
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
      arguments: { "x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": queue },
    });
    queueDeclares.push({ queue: deadQueueName(queue), durable: true });
    bindings.push({ exchange: config.exchange, queue, routingKey: ROUTING_KEYS[type] });
    bindings.push({ exchange: dlx, queue: deadQueueName(queue), routingKey: queue });
  }
  return { exchange: config.exchange, deadLetterExchange: dlx, queues, exchanges, queueDeclares, bindings };
}
