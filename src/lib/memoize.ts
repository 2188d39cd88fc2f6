/**
 * `fn`'s last answer while younger than `maxAgeMs`; callers meanwhile share one call in flight.
 * What keeps work for unauthenticated callers bounded: a thousand scrapes or probes in one
 * second cost one rendering, one query.
 */
export function memoize<T>(fn: () => Promise<T>, maxAgeMs: number, now: () => number = Date.now) {
  let last: { value: T; at: number } | undefined;
  let pending: Promise<T> | undefined;
  return (): Promise<T> => {
    if (last && now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    pending ??= fn()
      .then((value) => {
        last = { value, at: now() };
        return value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
