import type { Clock } from './clock';
import type { LastKnownGoodOptions } from './types';

interface Entry {
  value: unknown;
  at: number;
}

/** Successful results per key, bounded by `maxEntries` (least recently stored/served goes first). */
export class LastKnownGood {
  private readonly entries = new Map<string, Entry>();
  served = 0;

  constructor(
    private readonly options: LastKnownGoodOptions,
    private readonly clock: Clock,
  ) {}

  /** The cache key of a call, or undefined when the arguments cannot be keyed (the call is then not cached). */
  key(args: readonly unknown[]): string | undefined {
    try {
      const keyFn = this.options.key as ((...a: unknown[]) => string) | undefined;
      if (keyFn !== undefined) return String(keyFn(...args));
      return args.length === 0 ? '' : JSON.stringify(args);
    } catch {
      return undefined;
    }
  }

  store(args: readonly unknown[], value: unknown): void {
    const key = this.key(args);
    if (key === undefined) return;
    this.entries.delete(key);
    this.entries.set(key, { value, at: this.clock.now() });
    if (this.entries.size > this.options.maxEntries) {
      // Map iterates in insertion order: the first key is the least recently stored.
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  /** The stored value if younger than ttlMs; `found` false otherwise. */
  lookup(args: readonly unknown[]): { found: boolean; value?: unknown } {
    const key = this.key(args);
    if (key === undefined) return { found: false };
    const entry = this.entries.get(key);
    if (entry === undefined) return { found: false };
    if (this.clock.now() - entry.at >= this.options.ttlMs) {
      this.entries.delete(key);
      return { found: false };
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { found: true, value: entry.value };
  }

  get size(): number {
    return this.entries.size;
  }
}
