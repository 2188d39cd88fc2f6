/**
 * At most `limit` async tasks running at once; the others wait their turn in order. With
 * `maxWaiting`, a task arriving when that many already wait is refused at once with
 * LimiterFullError (a flood is shed instead of queued without end).
 */
export class LimiterFullError extends Error {
  override readonly name = "LimiterFullError";
}

export function createLimiter(limit: number, maxWaiting = Number.POSITIVE_INFINITY) {
  const max = Math.max(1, Math.floor(limit));
  let running = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    running--;
    waiting.shift()?.();
  };
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= max) {
      if (waiting.length >= maxWaiting) throw new LimiterFullError(`${waiting.length} tasks already wait`);
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    try {
      return await task();
    } finally {
      next();
    }
  };
}
