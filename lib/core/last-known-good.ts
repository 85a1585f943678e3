import type { Clock } from './clock';
import type { LastKnownGoodOptions } from './types';

interface Entry {
  value: unknown;
  at: number;
}

/**
 * Breaker names already warned about a throwing `lastKnownGood.key`: once per name, never per call (a
 * keyed family shares its name, and every policy of a breaker has its own cache, so they all share this).
 */
const warnedKeyNames = new Set<string>();

/** Successful results per key, bounded by `maxEntries` (least recently stored/served goes first). */
export class LastKnownGood {
  private readonly entries = new Map<string, Entry>();
  served = 0;

  constructor(
    private readonly options: LastKnownGoodOptions,
    private readonly clock: Clock,
    /** The breaker's name, for the warning when `key` throws. */
    private readonly breakerName: string,
  ) {}

  /**
   * The cache key of a call, or undefined when the call cannot be keyed: it then runs uncached. The
   * default key (the arguments as JSON) fails on cyclic or BigInt arguments, which is expected and silent;
   * a user `key` that throws is a bug in user code, reported by a process warning (code EBREAKERCALLBACK)
   * once per breaker name, so the call still runs and the log is not flooded.
   */
  key(args: readonly unknown[]): string | undefined {
    const keyFn = this.options.key as ((...a: unknown[]) => unknown) | undefined;
    if (keyFn === undefined) {
      try {
        return args.length === 0 ? '' : JSON.stringify(args);
      } catch {
        return undefined;
      }
    }
    try {
      return String(keyFn(...args));
    } catch (thrown) {
      this.warnKeyThrew(thrown);
      return undefined;
    }
  }

  private warnKeyThrew(thrown: unknown): void {
    if (warnedKeyNames.has(this.breakerName)) return;
    warnedKeyNames.add(this.breakerName);
    const what = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    process.emitWarning(
      `breaker "${this.breakerName}": fallback.lastKnownGood.key threw ${what}; the call runs uncached`,
      { code: 'EBREAKERCALLBACK' },
    );
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
