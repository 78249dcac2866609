/**
 * Introspection answers by token digest, each kept until its own expiry (the token's `exp`
 * or the configured bound, whichever is sooner). Concurrent requests for a token not yet
 * cached share one introspection; a failed one is not kept, so the next request asks again.
 */
export class AnswerCache<V> {
  readonly #entries = new Map<string, { expires: number; value: Promise<V> }>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** `load` returns the value and until when (epoch ms) it may be used. */
  get(key: string, load: () => Promise<{ value: V; expires: number }>): Promise<V> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    // In flight until `load` settles: its own expiry replaces this one then.
    const entry: { expires: number; value: Promise<V> } = {
      expires: Number.POSITIVE_INFINITY,
      value: load().then(
        ({ value, expires }) => {
          if (this.#entries.get(key) === entry) {
            if (expires > Date.now()) entry.expires = expires;
            else this.#entries.delete(key);
          }
          return value;
        },
        (error: unknown) => {
          if (this.#entries.get(key) === entry) this.#entries.delete(key);
          throw error;
        },
      ),
    };
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, entry);
    return entry.value;
  }
}
