import type { DurationObserver, EventSinks, NotableEventObserver } from './breaker-reporting';
import { CircuitCore } from './circuit-core';
import { FleetParticipation } from './fleet-participation';
import {
  type CircuitState,
  CLOSED,
  DISABLED,
  FORCED_OPEN,
  HALF_OPEN,
  METRICS_ONLY,
  OPEN,
  REJECTED as NO_PERMIT,
  STATES,
} from './circuit-state';
import { openDuration } from './open-duration';
import type { ResolvedOptions } from './options';
import { rate } from './sliding-window';
import type { CircuitStateStore, SharedState, StoreParticipant, WindowCounts } from './store';
import type { BreakerSnapshot, CallCounts, StoreStatus } from './types';

/**
 * A permit of 0 means "rejected"; any other value is the generation of the state that issued it. A
 * constant of this module, not a re-export: CommonJS turns a re-export into a getter, and the call
 * pipelines compare against it on every call.
 */
export const REJECTED = NO_PERMIT;
export type { DurationObserver, EventSinks, NotableEventObserver };

/** The part of a breaker's state that a shared store publishes and adopts: one small value. */
export interface MachineState {
  state: CircuitState;
  /** When the current OPEN period began (epoch ms of the clock that opened it). */
  openedAt: number;
  /** How long the current OPEN period lasts. */
  openDurationMs: number;
  /** The n-th consecutive opening (0 while closed). */
  openAttempt: number;
}

/**
 * A breaker's state machine as the rest of the library uses it. It is built in layers of one class,
 * each in its own file, so that a breaker stays a single object whose hot paths read plain fields:
 * `BreakerReporting` (where events and durations go), `CircuitCore` (state, counters, permits, outcomes,
 * transitions) and, here, what the outside does with it: operators force states, readers take
 * snapshots, and a shared store (`store.ts`) follows and steers it as a participant of the fleet.
 */
export abstract class BreakerStateMachine extends CircuitCore implements StoreParticipant {
  // ---------------------------------------------------------------- manual control

  /**
   * Manual control: a fresh start in `to`. Asking for the state the breaker is already in changes nothing
   * (no event, `lastTransitionAt` kept, calls in flight record normally), except that `reset()` in CLOSED
   * still empties the window and the consecutive count.
   */
  private manual(to: number, reason: string): void {
    if (to === this.mode) {
      if (to === CLOSED) {
        this.consecutive = 0;
        this.window?.clear();
        this.throttle?.clear();
      }
      return;
    }
    this.consecutive = 0;
    this.window?.clear();
    if (to !== OPEN) this.openAttempt = 0;
    this.transition(to, reason, this.clock.now(), 'manual');
  }

  /** Rejects every call until reset. */
  forceOpen(): void {
    this.manual(FORCED_OPEN, 'forced open');
  }

  /** Lets every call through and records nothing. */
  disable(): void {
    this.manual(DISABLED, 'disabled');
  }

  /** Records every call but never trips. */
  metricsOnly(): void {
    this.manual(METRICS_ONLY, 'metrics only');
  }

  /** Back to CLOSED with an empty window and consecutive count; cumulative counters are kept. */
  reset(): void {
    this.manual(CLOSED, 'reset');
  }

  // ---------------------------------------------------------------- reading

  get state(): CircuitState {
    return STATES[this.mode];
  }

  /**
   * @internal
   * True when a call made `ms` from now would still be rejected without running (OPEN for longer than
   * that, or FORCED_OPEN): a retry need not wait its backoff only to be refused.
   */
  rejectsFor(ms: number): boolean {
    if (this.mode === FORCED_OPEN) return true;
    return this.mode === OPEN && this.openedAt + this.openDurationMs - this.clock.now() > ms;
  }

  /** Fallbacks served; the policies around the machine count them (one of the occasional counts). */
  protected get fallbacks(): number {
    return this.counts === undefined ? 0 : this.counts.fallbacks;
  }

  protected set fallbacks(n: number) {
    this.occasional().fallbacks = n;
  }

  /** Attempts made again by the retry policy; counted by the policies around the machine. */
  protected get retries(): number {
    return this.counts === undefined ? 0 : this.counts.retries;
  }

  protected set retries(n: number) {
    this.occasional().retries = n;
  }

  snapshot(): BreakerSnapshot {
    const now = this.clock.now();
    const w = this.window;
    let failureRate = -1;
    let slowCallRate = -1;
    let buffered = 0;
    if (w !== undefined) {
      w.expire(now);
      buffered = w.total;
      if (buffered >= this.options.minimumCalls && buffered > 0) {
        failureRate = rate(w.failures, buffered);
        slowCallRate = rate(w.slow, buffered);
      }
    }
    const c = this.counts;
    const snapshot: BreakerSnapshot = {
      name: this.name,
      state: STATES[this.mode],
      totalCalls: this.totalCalls,
      successfulCalls: this.successfulCalls,
      failedCalls: this.failedCalls,
      rejectedCalls: this.rejectedCalls,
      ignoredCalls: c === undefined ? 0 : c.ignored,
      cancelledCalls: c === undefined ? 0 : c.cancelled,
      slowCalls: this.slowCalls,
      timeouts: c === undefined ? 0 : c.timeouts,
      fallbacks: c === undefined ? 0 : c.fallbacks,
      retries: c === undefined ? 0 : c.retries,
      throttledCalls: c === undefined ? 0 : c.throttled,
      throttleProbability:
        this.throttle !== undefined && this.mode === CLOSED ? this.throttle.probability(now) : 0,
      failureRate,
      slowCallRate,
      bufferedCalls: buffered,
      successRate: this.totalCalls === 0 ? 0 : rate(this.successfulCalls, this.totalCalls),
      consecutiveFailures: this.consecutive,
      openedCount: c === undefined ? 0 : c.opened,
      lastTransitionAt: this.lastTransitionAt,
      retryAfterMs: this.mode === OPEN ? Math.max(0, this.openedAt + this.openDurationMs - now) : 0,
      halfOpenInFlight: this.mode === HALF_OPEN ? this.probesInFlight : 0,
      ...this.bulkheadCounts(),
      store: this.fleet === undefined ? 'memory' : this.fleet.status,
    };
    if (this.key !== undefined) snapshot.key = this.key;
    return snapshot;
  }

  /** @internal Adds this breaker's cumulative counters to `totals` (a family's view; no snapshot built). */
  addCountsTo(totals: CallCounts): void {
    const c = this.counts;
    totals.totalCalls += this.totalCalls;
    totals.successfulCalls += this.successfulCalls;
    totals.failedCalls += this.failedCalls;
    totals.rejectedCalls += this.rejectedCalls;
    totals.slowCalls += this.slowCalls;
    if (c !== undefined) {
      totals.ignoredCalls += c.ignored;
      totals.cancelledCalls += c.cancelled;
      totals.timeouts += c.timeouts;
      totals.fallbacks += c.fallbacks;
      totals.openedCount += c.opened;
    }
  }

  protected bulkheadCounts(): { bulkheadActive: number; bulkheadQueued: number } {
    return { bulkheadActive: 0, bulkheadQueued: 0 };
  }

  /** The state a shared store publishes. */
  machineState(): MachineState {
    return {
      state: STATES[this.mode],
      openedAt: this.openedAt,
      openDurationMs: this.openDurationMs,
      openAttempt: this.openAttempt,
    };
  }

  // ---------------------------------------------------------------- fleet permits

  /** Set when `acquire()` returned REJECTED only because the fleet must admit the probe (`fleetProbe()`). */
  protected get askFleet(): boolean {
    return this.fleet !== undefined && this.fleet.asking;
  }

  // ---------------------------------------------------------------- shared store (see store.ts)

  /** @internal Connects this breaker to a store (a registry does it for its breakers). */
  connectStore(store: CircuitStateStore): void {
    this.disconnectStore();
    const link = store.attach(this);
    if (link !== undefined) this.participation().link = link;
  }

  /** @internal Forgets the store: the breaker goes on alone, with its current state. */
  disconnectStore(): void {
    const link = this.fleet?.link;
    if (link === undefined) return;
    // No participation is the same as a fresh one: no link, nothing asked, no fleet totals, 'memory'.
    this.fleet = undefined;
    link.detach();
  }

  /** The breaker's fleet record, created by the first thing a store tells it. */
  private participation(): FleetParticipation {
    return (this.fleet ??= new FleetParticipation());
  }

  /** StoreParticipant: see store.ts. */
  storeOptions(): ResolvedOptions {
    return this.options;
  }

  /** The state in skew-free form (OPEN timing as elapsed time). */
  sharedState(): SharedState {
    const mode = this.mode;
    return {
      state: STATES[mode],
      elapsedMs: mode === OPEN ? Math.max(0, this.clock.now() - this.openedAt) : 0,
      openDurationMs: this.openDurationMs,
      openAttempt: this.openAttempt,
    };
  }

  /** StoreParticipant: see store.ts. */
  windowCounts(): WindowCounts | undefined {
    const w = this.window;
    if (w === undefined) return undefined;
    w.expire(this.clock.now());
    return { total: w.total, failures: w.failures, slow: w.slow };
  }

  /** StoreParticipant: see store.ts. */
  activity(): number {
    return this.totalCalls;
  }

  /** StoreParticipant: see store.ts. */
  setFleetWindow(others: WindowCounts | undefined): void {
    if (others === undefined && this.fleet === undefined) return;
    this.participation().setWindow(others);
  }

  /** StoreParticipant: see store.ts. */
  setStoreStatus(status: StoreStatus): void {
    if (status === 'memory' && this.fleet === undefined) return;
    this.participation().status = status;
  }

  /** StoreParticipant: see store.ts. */
  openDurationFor(attempt: number): number {
    return openDuration(this, this.options, attempt, this.random);
  }

  /**
   * Takes over a state another instance decided. The same state only refreshes OPEN timing;
   * another state is a transition (events, counts) that is not published back.
   */
  adopt(shared: SharedState, reason: string): void {
    const to = STATES.indexOf(shared.state);
    if (to < 0) return;
    const now = this.clock.now();
    if (to === OPEN || to === HALF_OPEN) {
      this.openedAt = now - shared.elapsedMs;
      this.openDurationMs = shared.openDurationMs;
      this.openAttempt = shared.openAttempt;
    }
    if (to === this.mode) return;
    if (to === OPEN) this.occasional().opened++;
    else if (to !== HALF_OPEN) {
      this.consecutive = 0;
      this.window?.clear();
      this.openAttempt = 0;
    }
    this.transition(to, reason, now, 'fleet');
  }
}
