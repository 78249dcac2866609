/**
 * A small time-to-live cache for answers that may be a few seconds stale (group membership,
 * the enterprise scope list, clients between change notifications). Concurrent misses for one
 * key share one lookup; a failed lookup is not kept.
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
    const entry = { expires: now + this.#ttlMs, value: load() };
    this.#entries.set(key, entry);
    // Only this entry: a newer one (the key was forgotten and loaded again meanwhile) stays.
    entry.value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return entry.value;
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
