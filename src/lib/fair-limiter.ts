/**
 * At most `limit` async tasks running at once, shared fairly between keys (clients): tasks that
 * must wait queue per key and are started in turn, one key after another, so a key with a
 * thousand tasks waiting delays a newcomer by one round, not by a thousand tasks.
 *
 * Waiting is bounded twice: a key may have at most `perKey` tasks waiting (beyond, its task is
 * refused at once with LimiterFullError), and all keys together at most `total`. When the total
 * is reached, a task whose key has fewer waiting than the longest queue takes the place of that
 * queue's newest task (which is refused): under a flood, the flooding keys lose their excess, a
 * key that asks little still gets its turn.
 */
import { LimiterFullError } from "./limiter.ts";

export interface FairLimiterOptions {
  limit: number;
  perKey: number;
  total: number;
}

interface Waiter {
  start(): void;
  refuse(err: Error): void;
}

export function createFairLimiter(opts: FairLimiterOptions) {
  const max = Math.max(1, Math.floor(opts.limit));
  let running = 0;
  let waitingTotal = 0;
  // insertion order is the round-robin order; a key leaves when its queue empties
  const queues = new Map<string, Waiter[]>();

  const next = () => {
    running--;
    const first = queues.entries().next();
    if (first.done) return;
    const [key, queue] = first.value;
    const waiter = queue.shift() as Waiter;
    waitingTotal--;
    queues.delete(key);
    if (queue.length > 0) queues.set(key, queue); // to the back of the round
    running++;
    waiter.start();
  };

  const longest = (): [string, Waiter[]] | undefined => {
    let best: [string, Waiter[]] | undefined;
    for (const entry of queues) if (!best || entry[1].length > best[1].length) best = entry;
    return best;
  };

  return async function run<T>(key: string, task: () => Promise<T>): Promise<T> {
    if (running >= max) {
      const own = queues.get(key) ?? [];
      if (own.length >= opts.perKey)
        throw new LimiterFullError(`${own.length} tasks of this client already wait`);
      if (waitingTotal >= opts.total) {
        const victim = longest();
        if (!victim || victim[1].length <= own.length)
          throw new LimiterFullError(`${waitingTotal} tasks already wait`);
        const dropped = victim[1].pop() as Waiter;
        waitingTotal--;
        if (victim[1].length === 0) queues.delete(victim[0]);
        dropped.refuse(new LimiterFullError("made room for a client with fewer tasks waiting"));
      }
      await new Promise<void>((start, refuse) => {
        const queue = queues.get(key) ?? [];
        queue.push({ start, refuse });
        queues.set(key, queue);
        waitingTotal++;
      });
    } else {
      running++;
    }
    try {
      return await task();
    } finally {
      next();
    }
  };
}
