/**
 * Runs async work one at a time per key (other keys run in parallel). Entries are removed when
 * their queue empties, so memory stays bounded by the keys in use.
 */
export function createKeyedLock<K>() {
  const tails = new Map<K, Promise<unknown>>();
  return async function withLock<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
