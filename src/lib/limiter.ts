/**
 * At most `limit` async tasks running at once; the others wait their turn in order.
 */
export function createLimiter(limit: number) {
  const max = Math.max(1, Math.floor(limit));
  let running = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    running--;
    waiting.shift()?.();
  };
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      next();
    }
  };
}
