import type { CircuitState } from './circuit-state';
import type { ResolvedOptions } from './options';
import type { StoreStatus } from './types';

/**
 * A breaker's fleet-relevant state, in a form that survives clock skew: OPEN timing travels as "how long
 * ago it opened" (`elapsedMs`), never as a timestamp of one machine's clock.
 */
export interface SharedState {
  state: CircuitState;
  /** ms since the current OPEN period began (0 for other states). */
  elapsedMs: number;
  /** How long the current OPEN period lasts. */
  openDurationMs: number;
  /** The n-th consecutive opening (0 while closed). */
  openAttempt: number;
}

/** Running totals of a sliding window: what instances exchange to judge rates fleet-wide. */
export interface WindowCounts {
  total: number;
  failures: number;
  slow: number;
}

/** How a local transition came about: the store publishes `local` and `manual` ones, never `fleet` ones. */
export type TransitionSource = 'local' | 'manual' | 'fleet';

/** The answer of a store to "may this call be a half-open probe?". */
export type ProbeAnswer =
  | 'granted' // the fleet admitted one more probe (and the store holds its permit)
  | 'rejected' // the fleet's probes are taken, or the fleet is not half-open
  | 'local'; // no fleet answer (store degraded, slow or unaware): decide with local rules

/**
 * What a store sees of one breaker (the state machine implements it). The store reads it on its own
 * schedule (flush ticks) and pushes fleet decisions into it with `adopt`, so a CLOSED call never waits.
 */
export interface StoreParticipant {
  readonly name: string;
  /** The key of a keyed breaker: the fleet shares each key of a family as its own circuit. */
  readonly key?: string;
  /** The breaker's resolved options (thresholds, window, probe limits). */
  storeOptions(): ResolvedOptions;
  /** The breaker's state now, in skew-free form. */
  sharedState(): SharedState;
  /** The window's totals now (expired buckets dropped), or undefined when no rate trip is configured. */
  windowCounts(): WindowCounts | undefined;
  /** A number that changes whenever a call reaches the breaker (cheap activity probe for flush ticks). */
  activity(): number;
  /** Takes over a state decided elsewhere in the fleet (emits a `state_change` with the reason). */
  adopt(state: SharedState, reason: string): void;
  /** The rest of the fleet's window (other instances), added to the local window when judging rates. */
  setFleetWindow(others: WindowCounts | undefined): void;
  /** What the snapshot says about the store. */
  setStoreStatus(status: StoreStatus): void;
  /** OPEN duration of the n-th consecutive opening (halfOpenBackoff applied). */
  openDurationFor(attempt: number): number;
}

/**
 * One breaker's connection to a store. Every method returns at once: a store never makes a call wait,
 * except `acquireProbe` (bounded by the store's own timeout).
 */
export interface StoreLink {
  /**
   * True while the store is reachable: half-open probes are then admitted and judged fleet-wide. False
   * (degraded) means every decision is local until the store is back.
   */
  readonly shared: boolean;
  /** The breaker changed state on its own (`local`) or by an operator (`manual`), for `reason`. */
  transitioned(source: TransitionSource, reason: string): void;
  /** Asks the fleet for a half-open probe permit; settles within the store's timeout. */
  acquireProbe(): Promise<ProbeAnswer>;
  /** A fleet-granted probe succeeded; returns false when the store will not judge it (decide locally). */
  probeSucceeded(): boolean;
  /** A probe ended without a verdict (cancelled, ignored error, bulkhead full), or failed. */
  probeReleased(): void;
  /** The breaker is gone (replaced or disposed): the store forgets it. */
  detach(): void;
}

/**
 * Where breakers share their state. The default keeps everything in the breaker itself (one instance);
 * `RedisStateStore` (`nestjs-breaker/redis`) shares state, probes, window counts and manual control
 * across every instance that uses the same Redis.
 *
 * @example
 * const registry = new BreakerRegistry({ store: new RedisStateStore({ connection: 'redis://127.0.0.1:6379' }) });
 * // ... on shutdown:
 * registry.dispose();
 * await store.close();
 */
export interface CircuitStateStore {
  /**
   * Connects a breaker. Returns undefined when the store adds nothing to the breaker's own state (the
   * in-memory store): the breaker then runs exactly as without a store.
   */
  attach(breaker: StoreParticipant): StoreLink | undefined;
  /** Releases what the store owns (connections it created, timers). Idempotent. */
  close(): Promise<void>;
}

/**
 * The default store: each breaker keeps its state in memory, in this process only.
 *
 * @example
 * new BreakerRegistry({ store: new MemoryStateStore() }); // same as passing no store
 */
export class MemoryStateStore implements CircuitStateStore {
  attach(): undefined {
    return undefined;
  }

  async close(): Promise<void> {}
}

/** Checks that a value given as `store` looks like a CircuitStateStore (clear error otherwise). */
export function isStateStore(value: unknown): value is CircuitStateStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CircuitStateStore).attach === 'function' &&
    typeof (value as CircuitStateStore).close === 'function'
  );
}
