import type { Observable } from 'rxjs';
import { Breaker } from './breaker';
import { checkedClock, type Clock } from './clock';
import { BreakerConfigError } from './errors';
import { EventHub } from './event-hub';
import { describeValue, resolveOptions, type ResolvedOptions } from './options';
import { isStateStore, type CircuitStateStore } from './store';
import type { BreakerEvent, BreakerOptions, BreakerSnapshot } from './types';

export interface BreakerRegistryOptions {
  /** Merged under every breaker's own options. */
  defaults?: BreakerOptions;
  /** Per-breaker options; these breakers exist from construction. */
  breakers?: Record<string, BreakerOptions>;
  clock?: Clock;
  /** Randomness for jitter. Default Math.random. */
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

  /** The breaker named `name`: from the configuration, or created from the defaults. */
  get(name: string): Breaker {
    return this.ref(name).breaker;
  }

  /** @internal A handle that follows `register()` replacements (what decorated methods hold). */
  ref(name: string): BreakerRef {
    let ref = this.refs.get(name);
    if (ref === undefined) {
      if (typeof name !== 'string' || name.length === 0) {
        throw new BreakerConfigError(`breaker name must be a non-empty string, got ${describeValue(name)}`);
      }
      ref = { name, breaker: this.create(name, this.configured.get(name)) };
      this.refs.set(name, ref);
    }
    return ref;
  }

  /** Adds or replaces a breaker at run time (validated, merged over the defaults). */
  register(name: string, options: BreakerOptions = {}): Breaker {
    const breaker = this.create(name, options);
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

  /** Every breaker's snapshot, keyed by name (a prototype-free object: any name is a safe key). */
  metrics(): Record<string, BreakerSnapshot> {
    const out = Object.create(null) as Record<string, BreakerSnapshot>;
    for (const [name, ref] of this.refs) out[name] = ref.breaker.snapshot();
    return out;
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
