/**
 * How many messages wait in item-sync's queues, as the broker counts them, for the dashboard's
 * and Grafana's queue-depth charts. A passive queue.declare answers with a queue's ready
 * messages (not those delivered and still unacknowledged) and its consumers, and never creates
 * or changes a queue: reading depths is read-only.
 *
 * Rejects when the broker cannot answer (not connected, a queue deleted by hand); the caller
 * (a /metrics scrape) then leaves the figures out rather than failing.
 */
import type { Broker } from "./broker.ts";
import type { ItemMessageType } from "./messages.ts";
import { deadQueueName } from "./topology.ts";

export interface QueueDepth {
  queue: string;
  /** the message type the queue carries */
  type: ItemMessageType;
  /** `work` for the queue the workers consume, `dead` for its `.dead` queue */
  role: "work" | "dead";
  /** messages waiting to be delivered */
  ready: number;
  consumers: number;
}

/** Every work queue and `.dead` queue of the topology; rejects at once while disconnected. */
export async function readQueueDepths(
  broker: Pick<Broker, "connection" | "topology" | "state">,
): Promise<QueueDepth[]> {
  // a disconnected client would wait for the connection: a scrape must not hang on it
  if (!broker.state().connected) throw new Error("the broker is not connected");
  const queues = Object.entries(broker.topology.queues) as [ItemMessageType, string][];
  const wanted = queues.flatMap(([type, queue]) => [
    { queue, type, role: "work" as const },
    { queue: deadQueueName(queue), type, role: "dead" as const },
  ]);
  return Promise.all(
    wanted.map(async (q) => {
      const { messageCount, consumerCount } = await broker.connection.queueDeclare({
        queue: q.queue,
        passive: true,
      });
      return { ...q, ready: messageCount, consumers: consumerCount };
    }),
  );
}
