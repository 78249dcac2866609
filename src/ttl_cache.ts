/**
 * A small time-to-live cache for answers that may be a few seconds stale (group membership,
 * the enterprise scope list, clients between change notifications). Concurrent misses for one
 * key share one lookup; a failed lookup is not kept.
 */
export class TtlCache<V> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { expires: number; value: Promise<V> }>();
  readonly #maxEntries: number;
  readonly #stats: CacheCounts;

  /** `name` labels the cache's hits and misses in /metrics (src/metrics.ts). */
  constructor(name: string, ttlSeconds: number, maxEntries = 10_000) {
    this.#ttlMs = ttlSeconds * 1000;
    this.#maxEntries = maxEntries;
    this.#stats = countsFor(name);
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) {
      this.#stats.hits++;
      return hit.value;
    }
    this.#stats.misses++;
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

export interface CacheCounts {
  hits: number;
  misses: number;
}

// Per process, by cache name: plain integers on the lookup path, read only when /metrics is
// scraped. Several providers in one process (the tests, the bench) add up into one count.
const COUNTS = new Map<string, CacheCounts>();

function countsFor(name: string): CacheCounts {
  let counts = COUNTS.get(name);
  if (!counts) COUNTS.set(name, (counts = { hits: 0, misses: 0 }));
  return counts;
}

/** Hits and misses of every cache so far, by name. */
export function cacheStats(): ReadonlyMap<string, Readonly<CacheCounts>> {
  return COUNTS;
}
