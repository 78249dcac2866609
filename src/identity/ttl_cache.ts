/**
 * A small time-to-live cache for answers that may be a few seconds stale (group membership,
 * the enterprise scope list). Concurrent misses for one key share one lookup.
 */
export class TtlCache<V> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { expires: number; value: Promise<V> }>();
  readonly #maxEntries: number;

  constructor(ttlSeconds: number, maxEntries = 10_000) {
    this.#ttlMs = ttlSeconds * 1000;
    this.#maxEntries = maxEntries;
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (this.#ttlMs === 0) return load();
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    const value = load();
    this.#entries.set(key, { expires: now + this.#ttlMs, value });
    // A failed lookup is not remembered.
    value.catch(() => this.#entries.delete(key));
    return value;
  }
}
