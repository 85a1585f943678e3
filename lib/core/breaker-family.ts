import type { Breaker } from './breaker';
import { CircuitState } from './circuit-state';
import type { Clock } from './clock';
import type { ResolvedKeys } from './options';
import type { CallCounts, FamilyKeyCounts } from './types';

/** One keyed breaker's place in its family's recency list (oldest use first). */
interface KeyedEntry {
  readonly key: string;
  readonly breaker: Breaker;
  /** The clock's time of the last `get` for this key. */
  usedAt: number;
  older: KeyedEntry | undefined;
  newer: KeyedEntry | undefined;
}

/** Entries looked at, at most, per new key: keeps the cost of a new key O(1) when most keys are OPEN. */
const SCAN_LIMIT = 16;

/** Idle entries evicted, at most, per `get`: each was paid for by its own creation, so O(1) amortised. */
const IDLE_EVICTIONS_PER_GET = 2;

/** Creates the keyed breaker for `key` (options, store, sinks: the registry's business). */
export type KeyedBreakerFactory = (key: string) => Breaker;

export function zeroCounts(): CallCounts {
  return {
    totalCalls: 0,
    successfulCalls: 0,
    failedCalls: 0,
    rejectedCalls: 0,
    ignoredCalls: 0,
    cancelledCalls: 0,
    slowCalls: 0,
    timeouts: 0,
    fallbacks: 0,
    openedCount: 0,
  };
}

/** CLOSED, DISABLED and METRICS_ONLY keys hold nothing an operator or the fleet needs: they may go. */
function isEvictable(breaker: Breaker): boolean {
  const state = breaker.state;
  return (
    state === CircuitState.CLOSED || state === CircuitState.DISABLED || state === CircuitState.METRICS_ONLY
  );
}

/**
 * The keyed breakers of one name: one circuit per tenant, merchant or host, created on first use and
 * bounded. A doubly linked recency list beside the map makes "used now" and "least recently used" O(1);
 * nothing here runs on a timer.
 *
 * - At `keys.max`, the least recently used evictable key (CLOSED, DISABLED, METRICS_ONLY) makes room.
 *   Keys that cannot go (OPEN, HALF_OPEN, FORCED_OPEN) are passed over and count as used then; after
 *   {@link SCAN_LIMIT} of them the new key gets no breaker of its own (`get` returns undefined, and the
 *   caller uses the family's unkeyed breaker).
 * - An evictable key unused for `keys.idleMs` is evicted by a later `get` (a few per call), by `keys()`,
 *   or by a family read (`counts()`).
 * - Evicted and removed keys leave their counters in the family's totals: they never go backwards.
 *
 * @example
 * const family = new BreakerFamily('payment', (key) => makeKeyed(key), clock, { max: 1000, idleMs: 600_000, metrics: 'family' });
 * const breaker = family.get('merchant-42') ?? unkeyed;
 */
export class BreakerFamily {
  private readonly entries = new Map<string, KeyedEntry>();
  private oldest: KeyedEntry | undefined = undefined;
  private newest: KeyedEntry | undefined = undefined;
  private evictions = 0;
  /** Counters of keys that are gone (evicted or removed). */
  private readonly retired: CallCounts = zeroCounts();

  constructor(
    readonly name: string,
    private readonly create: KeyedBreakerFactory,
    private readonly clock: Clock,
    /** `keys` of the family's options (replaced when `register()` gives the name new options). */
    public limits: ResolvedKeys,
  ) {}

  /** Keyed breakers alive now. */
  get size(): number {
    return this.entries.size;
  }

  /** Keys evicted so far (idle, or to make room). */
  get evicted(): number {
    return this.evictions;
  }

  /**
   * The breaker of `key`, created on first use and marked used now; undefined when the family is full of
   * keys that cannot be evicted (the caller then goes through the unkeyed breaker).
   */
  get(key: string): Breaker | undefined {
    const now = this.clock.now();
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.usedAt = now;
      if (entry !== this.newest) this.moveToNewest(entry);
      const oldest = this.oldest as KeyedEntry;
      if (now - oldest.usedAt >= this.limits.idleMs) this.evictIdle(now, IDLE_EVICTIONS_PER_GET);
      return entry.breaker;
    }
    if (this.oldest !== undefined) this.evictIdle(now, IDLE_EVICTIONS_PER_GET);
    if (this.entries.size >= this.limits.max && !this.makeRoom()) return undefined;
    const breaker = this.create(key);
    const created: KeyedEntry = { key, breaker, usedAt: now, older: this.newest, newer: undefined };
    if (this.newest === undefined) this.oldest = created;
    else this.newest.newer = created;
    this.newest = created;
    this.entries.set(key, created);
    return breaker;
  }

  /** The breaker of `key` if it is alive; never creates one and does not count as a use. */
  peek(key: string): Breaker | undefined {
    return this.entries.get(key)?.breaker;
  }

  /** The keys alive now (idle ones evicted first), least recently used first. */
  keys(): string[] {
    this.evictIdle(this.clock.now(), Infinity);
    const out: string[] = [];
    for (let e = this.oldest; e !== undefined; e = e.newer) out.push(e.key);
    return out;
  }

  /** Every keyed breaker alive now (idle ones evicted first), least recently used first. */
  breakers(): Breaker[] {
    this.evictIdle(this.clock.now(), Infinity);
    const out: Breaker[] = [];
    for (let e = this.oldest; e !== undefined; e = e.newer) out.push(e.breaker);
    return out;
  }

  /** Disposes `key`'s breaker (its counters stay in the totals); a later `get` starts it fresh. */
  remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.drop(entry);
    return true;
  }

  /** Disposes every keyed breaker. */
  clear(): void {
    for (let e = this.oldest; e !== undefined; e = e.newer) this.retire(e.breaker);
    this.entries.clear();
    this.oldest = this.newest = undefined;
  }

  /** The keys by state (idle ones evicted first). */
  counts(): FamilyKeyCounts {
    return this.summarise(undefined);
  }

  /**
   * The keys by state (idle ones evicted first) and, when `totals` is given, every keyed call added to it
   * (gone keys included): the family view in one pass over the keys.
   */
  summarise(totals: CallCounts | undefined): FamilyKeyCounts {
    this.evictIdle(this.clock.now(), Infinity);
    if (totals !== undefined) {
      const r = this.retired;
      for (const k in r) totals[k as keyof CallCounts] += r[k as keyof CallCounts];
    }
    let open = 0;
    let halfOpen = 0;
    for (let e = this.oldest; e !== undefined; e = e.newer) {
      const breaker = e.breaker;
      if (totals !== undefined) breaker.addCountsTo(totals);
      const state = breaker.state;
      if (state === CircuitState.OPEN || state === CircuitState.FORCED_OPEN) open++;
      else if (state === CircuitState.HALF_OPEN) halfOpen++;
    }
    return { alive: this.entries.size, open, halfOpen, evicted: this.evictions };
  }

  /**
   * Evicts up to `limit` evictable keys idle for `keys.idleMs`, oldest first. A key that cannot go is
   * moved to the newest end (its `usedAt` unchanged) so that it does not hide the idle keys behind it.
   */
  private evictIdle(now: number, limit: number): void {
    const idleMs = this.limits.idleMs;
    let evicted = 0;
    let passed = 0;
    const size = this.entries.size;
    while (evicted < limit && passed < size) {
      const e = this.oldest;
      if (e === undefined || now - e.usedAt < idleMs) return;
      if (isEvictable(e.breaker)) {
        this.drop(e);
        this.evictions++;
        evicted++;
      } else {
        if (e === this.newest) return;
        this.moveToNewest(e);
        passed++;
        if (limit !== Infinity && passed >= SCAN_LIMIT) return;
      }
    }
  }

  /** Evicts the least recently used evictable key; false when none is found within the scan limit. */
  private makeRoom(): boolean {
    for (let scanned = 0; scanned < SCAN_LIMIT; scanned++) {
      const e = this.oldest;
      if (e === undefined) return true;
      if (isEvictable(e.breaker)) {
        this.drop(e);
        this.evictions++;
        return true;
      }
      if (e === this.newest) return false;
      this.moveToNewest(e);
    }
    return false;
  }

  private moveToNewest(entry: KeyedEntry): void {
    const { older, newer } = entry;
    if (newer === undefined) return;
    if (older === undefined) this.oldest = newer;
    else older.newer = newer;
    newer.older = older;
    entry.older = this.newest;
    entry.newer = undefined;
    (this.newest as KeyedEntry).newer = entry;
    this.newest = entry;
  }

  private drop(entry: KeyedEntry): void {
    const { older, newer } = entry;
    if (older === undefined) this.oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.newest = older;
    else newer.older = older;
    entry.older = entry.newer = undefined;
    this.entries.delete(entry.key);
    this.retire(entry.breaker);
  }

  private retire(breaker: Breaker): void {
    breaker.addCountsTo(this.retired);
    breaker.dispose();
    breaker.disconnectStore();
  }
}
