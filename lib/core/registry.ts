import type { Observable } from 'rxjs';
import { Breaker } from './breaker';
import { BreakerFamily, zeroCounts } from './breaker-family';
import { checkedClock, type Clock } from './clock';
import { BreakerConfigError } from './errors';
import { EventHub } from './event-hub';
import { describeValue, resolveOptions, type ResolvedOptions } from './options';
import { rate } from './sliding-window';
import { isStateStore, type CircuitStateStore } from './store';
import type { BreakerEvent, BreakerOptions, BreakerSnapshot } from './types';

/** Options of one key of a family that differ from the family's (e.g. `breakers[origin]` for fetch). */
export type KeyOptionsLookup = (key: string) => BreakerOptions | undefined;

export interface BreakerRegistryOptions {
  /** Merged under every breaker's own options. */
  defaults?: BreakerOptions;
  /** Per-breaker options; these breakers exist from construction. */
  breakers?: Record<string, BreakerOptions>;
  clock?: Clock;
  /** Randomness for jitter and the adaptive throttle's draws (tests pass a seeded one). Default Math.random. */
  random?: () => number;
  /**
   * Where breakers share state (e.g. `RedisStateStore` from `nestjs-breaker/redis`). Default: in memory,
   * this process only. The registry connects its breakers; closing the store stays with whoever created it.
   */
  store?: CircuitStateStore;
}

/** A stable handle on the breaker registered under a name; follows `register()` replacing it. */
export interface BreakerRef {
  readonly name: string;
  breaker: Breaker;
}

/**
 * Breakers by name, framework-free. Configured breakers are created (and validated) up front; others are
 * created from the defaults on first `get`.
 *
 * @example
 * const registry = new BreakerRegistry({ defaults: { halfOpenAfterMs: 10_000 }, breakers: { payment: { failureThreshold: 3 } } });
 * await registry.get('payment').executePromise(() => charge(order));
 */
export class BreakerRegistry {
  readonly clock: Clock;
  private readonly defaults: BreakerOptions;
  private readonly configured = new Map<string, BreakerOptions>();
  private readonly refs = new Map<string, BreakerRef>();
  private readonly families = new Map<string, BreakerFamily>();
  /** Handles of removed names: decorated methods hold them, so a name used again re-points the same handle. */
  private readonly removedRefs = new Map<string, BreakerRef>();
  private readonly sinks = { calls: new EventHub(), transitions: new EventHub() };
  private readonly random: () => number;
  private resolvedDefaults: ResolvedOptions | undefined;
  private readonly store: CircuitStateStore | undefined;
  private disposed = false;
  private createdListeners: ((breaker: Breaker) => void)[] = [];

  constructor(options: BreakerRegistryOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new BreakerConfigError(`registry options must be an object, got ${describeValue(options)}`);
    }
    this.clock = checkedClock('registry', options.clock);
    this.random = options.random ?? Math.random;
    if (typeof this.random !== 'function') {
      throw new BreakerConfigError(
        `random must be a function returning a number in [0, 1), got ${describeValue(options.random)}`,
      );
    }
    if (options.store !== undefined && !isStateStore(options.store)) {
      throw new BreakerConfigError(
        `store must be a CircuitStateStore (an object with attach() and close()), got ${describeValue(options.store)}`,
      );
    }
    this.store = options.store;
    this.defaults = { ...(options.defaults ?? {}) };
    // Validates the defaults on their own so a mistake there is reported once, under a clear name.
    resolveOptions('(defaults)', undefined, this.defaults);
    const breakers = options.breakers ?? {};
    if (breakers === null || typeof breakers !== 'object' || Array.isArray(breakers)) {
      throw new BreakerConfigError(
        `breakers must be an object keyed by breaker name, got ${describeValue(breakers)}`,
      );
    }
    for (const name of Object.keys(breakers)) {
      this.configured.set(name, breakers[name]);
      this.refs.set(name, { name, breaker: this.create(name, breakers[name]) });
    }
  }

  /**
   * The breaker named `name`: from the configuration, or created from the defaults. With `key`, the keyed
   * breaker of that family (created on first use with the family's options); when the family is at
   * `keys.max` and no key can be evicted, the family's unkeyed breaker.
   *
   * @example
   * await registry.get('payment', order.merchantId).executePromise(() => charge(order));
   */
  get(name: string, key?: string): Breaker {
    if (key === undefined) return this.ref(name).breaker;
    return this.keyed(name, key, undefined);
  }

  /**
   * @internal `get(name, key)` where some keys bring options of their own (merged over the family's):
   * `breakers[origin]` of the HTTP integrations.
   */
  keyed(name: string, key: string, ownOptions: KeyOptionsLookup | undefined): Breaker {
    if (typeof key !== 'string')
      throw new BreakerConfigError(
        `breaker "${name}": key must be a string (or undefined for the unkeyed breaker), got ${describeValue(key)}`,
      );
    const family = this.families.get(name) ?? this.family(name, ownOptions);
    return family.get(key) ?? this.ref(name).breaker;
  }

  /** The keyed breakers of `name` alive now (least recently used first); empty for a name never keyed. */
  keys(name: string): string[] {
    return this.families.get(name)?.keys() ?? [];
  }

  /** @internal The keyed breaker of `name` and `key` if alive; never creates one, never counts as a use. */
  findKeyed(name: string, key: string): Breaker | undefined {
    return this.families.get(name)?.peek(key);
  }

  /** @internal The family of `name`, if the name was ever used with a key. */
  familyOf(name: string): BreakerFamily | undefined {
    return this.families.get(name);
  }

  /**
   * Disposes one keyed breaker (`remove(name, key)`; a later `get` starts it fresh), or the breaker named
   * `name` with all its keys. Returns false when there was nothing to remove.
   */
  remove(name: string, key?: string): boolean {
    if (key !== undefined) return this.families.get(name)?.remove(key) ?? false;
    const family = this.families.get(name);
    const ref = this.refs.get(name);
    family?.clear();
    this.families.delete(name);
    if (ref === undefined) return family !== undefined;
    ref.breaker.dispose();
    ref.breaker.disconnectStore();
    this.refs.delete(name);
    this.removedRefs.set(name, ref);
    return true;
  }

  /** @internal A handle that follows `register()` replacements (what decorated methods hold). */
  ref(name: string): BreakerRef {
    let ref = this.refs.get(name);
    if (ref === undefined) {
      if (typeof name !== 'string' || name.length === 0) {
        throw new BreakerConfigError(`breaker name must be a non-empty string, got ${describeValue(name)}`);
      }
      const breaker = this.create(name, this.configured.get(name));
      ref = this.removedRefs.get(name);
      if (ref === undefined) ref = { name, breaker };
      else {
        this.removedRefs.delete(name);
        ref.breaker = breaker;
      }
      this.refs.set(name, ref);
    }
    return ref;
  }

  /** Adds or replaces a breaker at run time (validated, merged over the defaults). */
  register(name: string, options: BreakerOptions = {}): Breaker {
    const breaker = this.create(name, options);
    // Keyed breakers were made with the old options: they start afresh with the new ones (the family
    // keeps their counts, so its totals never go backwards).
    const family = this.families.get(name);
    if (family !== undefined) {
      family.clear();
      family.limits = breaker.options.keys;
    }
    const ref = this.refs.get(name);
    if (ref === undefined) this.refs.set(name, { name, breaker });
    else {
      ref.breaker.dispose();
      ref.breaker.disconnectStore();
      ref.breaker = breaker;
    }
    this.configured.set(name, options);
    return breaker;
  }

  has(name: string): boolean {
    return this.refs.has(name);
  }

  names(): string[] {
    return [...this.refs.keys()];
  }

  /** Options given for `name` in the configuration (before defaults), if any. */
  configuredOptions(name: string): BreakerOptions | undefined {
    return this.configured.get(name);
  }

  /**
   * Every breaker's snapshot, keyed by name (a prototype-free object: any name is a safe key). A family
   * shows once: its unkeyed breaker's state, counters adding up the unkeyed and every keyed call (evicted
   * keys included), and `keys: { alive, open, halfOpen, evicted }`.
   */
  metrics(): Record<string, BreakerSnapshot> {
    const out = Object.create(null) as Record<string, BreakerSnapshot>;
    for (const [name, ref] of this.refs) {
      const family = this.families.get(name);
      out[name] = family === undefined ? ref.breaker.snapshot() : familySnapshot(ref.breaker, family);
    }
    return out;
  }

  /** One name's snapshot as `metrics()` shows it (the family view for a keyed name). */
  snapshotOf(name: string): BreakerSnapshot | undefined {
    const ref = this.refs.get(name);
    if (ref === undefined) return undefined;
    const family = this.families.get(name);
    return family === undefined ? ref.breaker.snapshot() : familySnapshot(ref.breaker, family);
  }

  /** Every breaker's events. Subscribing makes every call allocate an event: `stateChanges$` is the cheap one. */
  get events$(): Observable<BreakerEvent> {
    return this.sinks.transitions.observable(this.sinks.calls);
  }

  /** Every breaker's `state_change` events. */
  get stateChanges$(): Observable<BreakerEvent> {
    return this.sinks.transitions.observable();
  }

  /** Subscribers on the registry-wide streams (for leak checks). */
  get listenerCount(): number {
    return this.sinks.calls.listenerCount + this.sinks.transitions.listenerCount;
  }

  /**
   * Calls `listener` with every breaker this registry creates from now on: on first use of a name, and on
   * `register()` (before the new breaker takes the name over). Observers that must see every call of every
   * breaker (a duration histogram) attach here. Returns a function that stops the calls.
   */
  onBreakerCreated(listener: (breaker: Breaker) => void): () => void {
    this.createdListeners = [...this.createdListeners, listener];
    return () => {
      this.createdListeners = this.createdListeners.filter((l) => l !== listener);
    };
  }

  /** Stops every retry wait and bulkhead queue. Breakers keep answering calls afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ref of this.refs.values()) {
      ref.breaker.dispose();
      ref.breaker.disconnectStore();
    }
    for (const family of this.families.values()) family.clear();
  }

  private family(name: string, ownOptions: KeyOptionsLookup | undefined): BreakerFamily {
    const ref = this.ref(name);
    const create = (key: string): Breaker => {
      // Every key shares the family's resolved options (one object for thousands of keys); read from the
      // unkeyed breaker, so that keys made after `register()` take the new options.
      const shared = ref.breaker.options;
      const own = ownOptions?.(key);
      const options =
        own === undefined
          ? shared
          : resolveOptions(name, { ...this.configured.get(name), ...own }, this.defaults);
      const breaker = new Breaker(name, options, this.clock, this.random);
      breaker.key = key;
      breaker.attachSinks(this.sinks);
      if (this.store !== undefined) breaker.connectStore(this.store);
      return breaker;
    };
    const family = new BreakerFamily(name, create, this.clock, ref.breaker.options.keys);
    this.families.set(name, family);
    return family;
  }

  private create(name: string, options: BreakerOptions | undefined): Breaker {
    // Breakers made from the defaults alone share one resolved (frozen) object: nothing writes to it.
    const resolved =
      options === undefined
        ? (this.resolvedDefaults ??= Object.freeze(resolveOptions(name, undefined, this.defaults)))
        : resolveOptions(name, options, this.defaults);
    const breaker = new Breaker(name, resolved, this.clock, this.random);
    breaker.attachSinks(this.sinks);
    if (this.store !== undefined) breaker.connectStore(this.store);
    const listeners = this.createdListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](breaker);
    return breaker;
  }
}

/** The family view of a name: the unkeyed state, counters of every call of the family, the keys by state. */
function familySnapshot(unkeyed: Breaker, family: BreakerFamily): BreakerSnapshot {
  const snapshot = unkeyed.snapshot();
  const totals = zeroCounts();
  unkeyed.addCountsTo(totals);
  const keys = family.summarise(totals);
  Object.assign(snapshot, totals);
  snapshot.successRate = totals.totalCalls === 0 ? 0 : rate(totals.successfulCalls, totals.totalCalls);
  snapshot.keys = keys;
  return snapshot;
}
