import { CircuitState } from './circuit-state';
import type { Clock } from './clock';
import { CircuitOpenError, ResultFailureError, type CallTimeoutError } from './errors';
import { EventHub, RingBuffer } from './event-hub';
import type { ResolvedOptions } from './options';
import { CountWindow, TimeWindow, type SlidingWindow } from './sliding-window';
import type {
  CircuitStateStore,
  SharedState,
  StoreLink,
  StoreParticipant,
  TransitionSource,
  WindowCounts,
} from './store';
import type { BreakerEvent, BreakerEventType, BreakerSnapshot, StoreStatus } from './types';

/** Never subscribed to: a breaker swaps in hubs of its own before anyone subscribes (`ownHubs`). */
const IDLE_HUB = new EventHub();

// Internal state codes: numbers keep the hot-path comparisons cheap.
const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const FORCED_OPEN = 3;
const DISABLED = 4;
const METRICS_ONLY = 5;
const STATES = [
  CircuitState.CLOSED,
  CircuitState.OPEN,
  CircuitState.HALF_OPEN,
  CircuitState.FORCED_OPEN,
  CircuitState.DISABLED,
  CircuitState.METRICS_ONLY,
] as const;

const NO_OBSERVERS: readonly DurationObserver[] = [];

/** A permit of 0 means "rejected"; any other value is the generation of the state that issued it. */
export const REJECTED = 0;

/** Event sinks a registry hands to its breakers so `registry.events$` sees every breaker. */
export interface EventSinks {
  calls: EventHub;
  transitions: EventHub;
}

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
 * The state machine and its counters. Every call asks `acquire()` for a permit, then reports exactly one
 * outcome for it (success, failure, ignored, cancelled or released). A permit carries the generation of the
 * state that issued it: an outcome that arrives after the state changed updates the cumulative counters
 * but never the window, the consecutive count or the probes of the new state.
 */
/** Receives every recorded call's duration (e.g. a Prometheus histogram). */
export interface DurationObserver {
  observe(durationMs: number, failed: boolean): void;
}

export abstract class BreakerStateMachine implements StoreParticipant {
  private mode = CLOSED;
  private generation = 1;
  private openedAt = 0;
  private openDurationMs = 0;
  private openAttempt = 0;
  private probesInFlight = 0;
  private probeSuccesses = 0;
  private consecutive = 0;
  private lastTransitionAt: number;
  private readonly window: SlidingWindow | undefined;
  private readonly tripsOnRate: boolean;
  private readonly tripsOnSlowProbe: boolean;
  /** `slowCallDurationMs`, or Infinity: no call is slow. */
  protected readonly slowMs: number;
  /** A call's start time is needed (slow-call detection, a duration observer). */
  protected readsStart: boolean;
  /** A call's end time is needed (slow calls, a time window, a duration observer). */
  protected readsEnd: boolean;
  // Replaced, never mutated, by observeDurations: every breaker can start with the one shared empty list.
  private durationObservers: readonly DurationObserver[] = NO_OBSERVERS;

  private totalCalls = 0;
  private successfulCalls = 0;
  private failedCalls = 0;
  private rejectedCalls = 0;
  private ignoredCalls = 0;
  private cancelledCalls = 0;
  private slowCalls = 0;
  private timeouts = 0;
  protected fallbacks = 0;
  private openedCount = 0;
  private warnedBackoff = false;
  /** The failing call's own minimum OPEN duration (a downstream's Retry-After), while its failure is recorded. */
  private openHintMs = 0;

  // Shared idle hubs until somebody subscribes (ownHubs): thousands of unwatched breakers hold none.
  protected callHub = IDLE_HUB;
  protected transitionHub = IDLE_HUB;
  /** Created with the first notable event: most breakers never have one. */
  private recent: RingBuffer<BreakerEvent> | undefined;
  private sinks: EventSinks | undefined = undefined;
  protected storeStatus: StoreStatus = 'memory';
  /** The shared store's link; undefined without a store (then nothing below runs on any call). */
  private link: StoreLink | undefined = undefined;
  /** Set by `acquire()` when it returned REJECTED only because the fleet must admit the probe. */
  protected askFleet = false;
  // The other instances' window totals, as of the store's last flush (0 without a store).
  private fleetTotal = 0;
  private fleetFailures = 0;
  private fleetSlow = 0;

  constructor(
    readonly name: string,
    protected readonly options: ResolvedOptions,
    protected readonly clock: Clock,
    protected readonly random: () => number = Math.random,
  ) {
    const o = options;
    this.tripsOnRate = o.failureRateThreshold !== undefined || o.slowCallRateThreshold !== undefined;
    // Assigned on every path (and `sinks`, `link` initialised): breakers of any configuration then share
    // one hidden class, so the hot paths' property reads stay monomorphic.
    this.window = !this.tripsOnRate
      ? undefined
      : o.window.type === 'count'
        ? new CountWindow(o.window.size)
        : new TimeWindow(o.window.sizeMs, o.window.buckets);
    this.slowMs = o.slowCallDurationMs ?? Infinity;
    this.tripsOnSlowProbe = o.slowCallRateThreshold !== undefined;
    this.readsStart = o.slowCallDurationMs !== undefined;
    this.readsEnd = this.readsStart || this.window instanceof TimeWindow;
    this.lastTransitionAt = clock.now();
  }

  get state(): CircuitState {
    return STATES[this.mode];
  }

  /** Connects this breaker's events to a registry's streams. */
  attachSinks(sinks: EventSinks): void {
    this.sinks = sinks;
  }

  /**
   * Hands every recorded call's duration to `observer` until the returned function is called. While any
   * observer is attached, each call reads the clock at its start and end.
   */
  observeDurations(observer: DurationObserver): () => void {
    this.durationObservers = [...this.durationObservers, observer];
    this.updateTiming();
    return () => {
      this.durationObservers = this.durationObservers.filter((o) => o !== observer);
      this.updateTiming();
    };
  }

  private observeDuration(ms: number, failed: boolean): void {
    const observers = this.durationObservers;
    for (let i = 0; i < observers.length; i++) observers[i].observe(ms, failed);
  }

  /** Recomputes which clock reads a call needs. */
  protected updateTiming(): void {
    const timed = this.options.slowCallDurationMs !== undefined || this.durationObservers.length !== 0;
    this.readsStart = timed;
    this.readsEnd = timed || this.window instanceof TimeWindow;
  }

  // ---------------------------------------------------------------- permits

  /** Returns a permit (the current generation) or REJECTED. OPEN turns HALF_OPEN here, lazily. */
  protected acquire(): number {
    if (this.mode === CLOSED) {
      this.totalCalls++;
      return this.generation;
    }
    return this.acquireSlow();
  }

  /**
   * `acquire()` for the CLOSED fast paths: when CLOSED, the same permit (the call is counted); otherwise
   * REJECTED with nothing touched, so that the caller can take its general path, which calls `acquire()`.
   */
  protected acquireClosed(): number {
    if (this.mode !== CLOSED) return REJECTED;
    this.totalCalls++;
    return this.generation;
  }

  private acquireSlow(): number {
    const mode = this.mode;
    if (mode === DISABLED) return this.generation;
    this.totalCalls++;
    if (mode === METRICS_ONLY) return this.generation;
    this.askFleet = false;
    if (mode === OPEN) {
      const now = this.clock.now();
      if (now - this.openedAt < this.openDurationMs) return REJECTED;
      this.transition(HALF_OPEN, `${this.openDurationMs} ms elapsed since opening`, now);
    }
    if (this.mode === HALF_OPEN && this.probesInFlight < this.options.halfOpenMaxCalls) {
      if (this.link !== undefined && this.link.shared) {
        // The fleet admits probes: async callers wait for `fleetProbe()`, sync ones `decideLocally()`.
        this.askFleet = true;
        return REJECTED;
      }
      this.probesInFlight++;
      return this.generation;
    }
    return REJECTED;
  }

  /**
   * The permit for a call whose `acquire()` asked the fleet (`askFleet`), once the store answered. The
   * call is already counted in `totalCalls`.
   */
  protected fleetProbe(): Promise<number> {
    const link = this.link;
    if (link === undefined) return Promise.resolve(this.decideLocally());
    return link.acquireProbe().then((answer) => {
      if (answer === 'local') return this.decideLocally();
      const mode = this.mode;
      if (answer === 'granted') {
        if (mode === HALF_OPEN && this.probesInFlight < this.options.halfOpenMaxCalls) {
          this.probesInFlight++;
          return this.generation;
        }
        link.probeReleased();
      }
      // The state may have moved on while the store answered (e.g. the fleet closed): judge it now.
      return mode === HALF_OPEN || mode === OPEN || mode === FORCED_OPEN ? REJECTED : this.decideLocally();
    });
  }

  /** A permit by local rules alone, for a call already counted (sync calls, or no answer from the store). */
  protected decideLocally(): number {
    if (this.mode === OPEN) {
      const now = this.clock.now();
      if (now - this.openedAt < this.openDurationMs) return REJECTED;
      this.transition(HALF_OPEN, `${this.openDurationMs} ms elapsed since opening`, now);
    }
    const mode = this.mode;
    if (mode === CLOSED || mode === DISABLED || mode === METRICS_ONLY) return this.generation;
    if (mode === HALF_OPEN && this.probesInFlight < this.options.halfOpenMaxCalls) {
      this.probesInFlight++;
      return this.generation;
    }
    return REJECTED;
  }

  /** Counts a rejection and builds its error (without a stack trace: it is thrown per call on a hot path). */
  protected reject(): CircuitOpenError {
    this.rejectedCalls++;
    const state = STATES[this.mode];
    const retryAfterMs =
      this.mode === OPEN ? Math.max(0, this.openedAt + this.openDurationMs - this.clock.now()) : 0;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const error = new CircuitOpenError(this.name, state, retryAfterMs);
    Error.stackTraceLimit = limit;
    this.note('rejected', error, undefined);
    return error;
  }

  /** A permit handed back without an outcome (bulkhead full): counted as rejected, never as failure. */
  protected release(permit: number, error: unknown): void {
    this.rejectedCalls++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
    this.note('rejected', error, undefined);
  }

  // ---------------------------------------------------------------- outcomes

  protected onSuccess(permit: number, start: number): void {
    if (
      permit === this.generation &&
      this.mode === CLOSED &&
      !this.readsEnd &&
      this.window === undefined &&
      !this.callHub.active &&
      (this.sinks === undefined || !this.sinks.calls.active)
    ) {
      // The common success, as recordSuccess would record it (no clock read, no window, no observer,
      // nobody listening), in a function small enough for the JIT to inline into the caller.
      this.successfulCalls++;
      this.consecutive = 0;
      return;
    }
    this.recordSuccess(permit, start);
  }

  private recordSuccess(permit: number, start: number): void {
    const mode = this.mode;
    if (mode === DISABLED && permit === this.generation) return;
    let now = 0;
    let slow = false;
    if (this.readsEnd) {
      now = this.clock.now();
      slow = now - start > this.slowMs;
    }
    this.successfulCalls++;
    if (slow) this.slowCalls++;
    if (this.durationObservers.length !== 0) this.observeDuration(now - start, false);
    if (permit === this.generation) {
      if (mode === CLOSED || mode === METRICS_ONLY) {
        this.consecutive = 0;
        const w = this.window;
        if (w !== undefined) {
          w.record(now, false, slow);
          // A success can still trip: it may bring the window up to minimumCalls, or expiry may have
          // dropped older successes (`>=` is judged after every recorded call).
          if (mode === CLOSED) this.checkRates(now);
        }
      } else if (mode === HALF_OPEN) {
        this.probesInFlight--;
        if (slow && this.tripsOnSlowProbe) {
          this.open(now, `half-open probe was slow (${now - start} ms > ${this.slowMs} ms)`);
        } else {
          // With a reachable store the fleet counts successes and closes everywhere at once.
          const fleetJudges = this.link !== undefined && this.link.probeSucceeded();
          if (++this.probeSuccesses >= this.options.successThreshold && !fleetJudges) {
            this.transition(CLOSED, `${this.probeSuccesses} successful probe(s)`, now || this.clock.now());
          }
        }
      }
    }
    if (this.callHub.active || (this.sinks !== undefined && this.sinks.calls.active)) {
      this.publish({
        type: 'success',
        name: this.name,
        at: this.clock.now(),
        durationMs: this.duration(start, now),
      });
    }
  }

  protected onFailure(permit: number, start: number, error: unknown, timedOut = false): void {
    const mode = this.mode;
    if (mode === DISABLED && permit === this.generation) return;
    const now = this.clock.now();
    const slow = this.readsStart && now - start > this.slowMs;
    this.failedCalls++;
    if (slow) this.slowCalls++;
    if (timedOut) this.timeouts++;
    if (this.durationObservers.length !== 0) this.observeDuration(now - start, true);
    // The failure is told before the transition it causes, so event streams read cause then effect.
    this.note(timedOut ? 'timeout' : 'failure', error, this.duration(start, now));
    if (permit === this.generation) {
      if (error instanceof ResultFailureError && error.retryAfterMs !== undefined) {
        this.openHintMs = error.retryAfterMs;
      }
      if (mode === CLOSED || mode === METRICS_ONLY) {
        this.consecutive++;
        this.window?.record(now, true, slow);
        if (mode === CLOSED) {
          if (this.consecutive >= this.options.failureThreshold) {
            this.open(now, `${this.consecutive} consecutive failures >= ${this.options.failureThreshold}`);
          } else if (this.window !== undefined) {
            this.checkRates(now);
          }
        }
      } else if (mode === HALF_OPEN) {
        this.probesInFlight--;
        this.open(now, timedOut ? 'half-open probe timed out' : 'half-open probe failed');
      }
      this.openHintMs = 0;
    }
  }

  /**
   * True when a call made `ms` from now would still be rejected without running (OPEN for longer than
   * that, or FORCED_OPEN): a retry need not wait its backoff only to be refused.
   */
  protected rejectsFor(ms: number): boolean {
    if (this.mode === FORCED_OPEN) return true;
    return this.mode === OPEN && this.openedAt + this.openDurationMs - this.clock.now() > ms;
  }

  /** An error the classifier said is not a failure: passes through, touches neither window nor counts. */
  protected onIgnored(permit: number, error: unknown): void {
    if (this.mode === DISABLED && permit === this.generation) return;
    this.ignoredCalls++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
    this.note('ignored', error, undefined);
  }

  /** An Observable unsubscribed before it finished: records nothing, gives a probe permit back. */
  protected onCancel(permit: number): void {
    if (this.mode === DISABLED && permit === this.generation) return;
    this.cancelledCalls++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
  }

  /** Undoes `acquire()` for a call that will be re-run through another path (counts nothing). */
  protected giveBack(permit: number): void {
    if (this.mode === DISABLED && permit === this.generation) return;
    this.totalCalls--;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
  }

  private releaseProbe(): void {
    this.probesInFlight--;
    if (this.link !== undefined) this.link.probeReleased();
  }

  protected onTimeout(permit: number, start: number, error: CallTimeoutError): void {
    this.onFailure(permit, start, error, true);
  }

  /** `now`: the call's end time when it was read (readsEnd), else a placeholder: read the clock to trip. */
  private checkRates(now: number): void {
    const w = this.window as SlidingWindow;
    // With a shared store the window is the fleet's: the other instances' totals as of the last flush.
    const total = w.total + this.fleetTotal;
    if (total < this.options.minimumCalls) return;
    const o = this.options;
    const failures = w.failures + this.fleetFailures;
    const slowCalls = w.slow + this.fleetSlow;
    const scope = this.fleetTotal === 0 ? '' : ' (fleet-wide)';
    if (o.failureRateThreshold !== undefined && failures * 100 >= o.failureRateThreshold * total) {
      this.open(
        this.readsEnd ? now : this.clock.now(),
        `failure rate ${round((failures / total) * 100)}% >= ${o.failureRateThreshold}% over ${total} calls${scope}`,
      );
    } else if (o.slowCallRateThreshold !== undefined && slowCalls * 100 >= o.slowCallRateThreshold * total) {
      this.open(
        this.readsEnd ? now : this.clock.now(),
        `slow-call rate ${round((slowCalls / total) * 100)}% >= ${o.slowCallRateThreshold}% over ${total} calls${scope}`,
      );
    }
  }

  // ---------------------------------------------------------------- transitions

  private open(now: number, reason: string): void {
    this.openAttempt++;
    this.openedCount++;
    this.openedAt = now;
    this.openDurationMs = this.openDuration(this.openAttempt);
    const hint = this.openHintMs;
    if (hint > this.openDurationMs && Number.isFinite(hint)) {
      this.openDurationMs = hint;
      reason += ` (the downstream asked to retry after ${hint} ms)`;
    }
    this.transition(OPEN, reason, now);
  }

  /** How long the n-th consecutive opening lasts (halfOpenBackoff), in ms. */
  private openDuration(attempt: number): number {
    const base = this.options.halfOpenAfterMs;
    const backoff = this.options.halfOpenBackoff;
    if (backoff === undefined) return base;
    if (typeof backoff === 'function') {
      const ms = backoff(attempt);
      if (typeof ms === 'number' && ms >= 0 && Number.isFinite(ms)) return ms;
      if (!this.warnedBackoff) {
        this.warnedBackoff = true;
        process.emitWarning(
          `breaker "${this.name}": halfOpenBackoff(${attempt}) returned ${String(ms)}, not a duration in ms; using halfOpenAfterMs (${base})`,
          { code: 'EBREAKERCONFIG' },
        );
      }
      return base;
    }
    const ms = Math.min(backoff.maxMs, base * Math.pow(backoff.multiplier, attempt - 1));
    if (!backoff.jitter) return ms;
    return Math.max(0, ms * (1 + backoff.jitter * (2 * this.random() - 1)));
  }

  private transition(to: number, reason: string, now: number, source: TransitionSource = 'local'): void {
    const from = this.mode;
    this.mode = to;
    this.generation++;
    this.lastTransitionAt = now;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    this.fleetTotal = this.fleetFailures = this.fleetSlow = 0;
    if (to === CLOSED) {
      this.consecutive = 0;
      this.openAttempt = 0;
      this.window?.clear();
    }
    const event: BreakerEvent = {
      type: 'state_change',
      name: this.name,
      at: now,
      from: STATES[from],
      to: STATES[to],
      reason,
    };
    if (to === OPEN) event.retryAfterMs = Math.max(0, this.openedAt + this.openDurationMs - now);
    this.remember(event);
    if (this.transitionHub.active) this.transitionHub.emit(event);
    if (this.sinks !== undefined && this.sinks.transitions.active) this.sinks.transitions.emit(event);
    if (this.link !== undefined && source !== 'fleet') this.link.transitioned(source, reason);
  }

  /** Manual control: a fresh start in `to`, whatever the state was. */
  private manual(to: number, reason: string): void {
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
        failureRate = round((w.failures / buffered) * 100);
        slowCallRate = round((w.slow / buffered) * 100);
      }
    }
    return {
      name: this.name,
      state: STATES[this.mode],
      totalCalls: this.totalCalls,
      successfulCalls: this.successfulCalls,
      failedCalls: this.failedCalls,
      rejectedCalls: this.rejectedCalls,
      ignoredCalls: this.ignoredCalls,
      cancelledCalls: this.cancelledCalls,
      slowCalls: this.slowCalls,
      timeouts: this.timeouts,
      fallbacks: this.fallbacks,
      failureRate,
      slowCallRate,
      bufferedCalls: buffered,
      successRate: this.totalCalls === 0 ? 0 : round((this.successfulCalls / this.totalCalls) * 100),
      consecutiveFailures: this.consecutive,
      openedCount: this.openedCount,
      lastTransitionAt: this.lastTransitionAt,
      retryAfterMs: this.mode === OPEN ? Math.max(0, this.openedAt + this.openDurationMs - now) : 0,
      halfOpenInFlight: this.mode === HALF_OPEN ? this.probesInFlight : 0,
      ...this.bulkheadCounts(),
      store: this.storeStatus,
    };
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

  // ---------------------------------------------------------------- shared store (see store.ts)

  /** @internal Connects this breaker to a store (a registry does it for its breakers). */
  connectStore(store: CircuitStateStore): void {
    this.disconnectStore();
    this.link = store.attach(this);
  }

  /** @internal Forgets the store: the breaker goes on alone, with its current state. */
  disconnectStore(): void {
    const link = this.link;
    if (link === undefined) return;
    this.link = undefined;
    this.askFleet = false;
    this.fleetTotal = this.fleetFailures = this.fleetSlow = 0;
    this.storeStatus = 'memory';
    link.detach();
  }

  /** @internal */
  storeOptions(): ResolvedOptions {
    return this.options;
  }

  /** @internal The state in skew-free form (OPEN timing as elapsed time). */
  sharedState(): SharedState {
    const mode = this.mode;
    return {
      state: STATES[mode],
      elapsedMs: mode === OPEN ? Math.max(0, this.clock.now() - this.openedAt) : 0,
      openDurationMs: this.openDurationMs,
      openAttempt: this.openAttempt,
    };
  }

  /** @internal */
  windowCounts(): WindowCounts | undefined {
    const w = this.window;
    if (w === undefined) return undefined;
    w.expire(this.clock.now());
    return { total: w.total, failures: w.failures, slow: w.slow };
  }

  /** @internal */
  activity(): number {
    return this.totalCalls;
  }

  /** @internal */
  setFleetWindow(others: WindowCounts | undefined): void {
    this.fleetTotal = others === undefined ? 0 : others.total;
    this.fleetFailures = others === undefined ? 0 : others.failures;
    this.fleetSlow = others === undefined ? 0 : others.slow;
  }

  /** @internal */
  setStoreStatus(status: StoreStatus): void {
    this.storeStatus = status;
  }

  /** @internal */
  openDurationFor(attempt: number): number {
    return this.openDuration(attempt);
  }

  /**
   * @internal Takes over a state another instance decided. The same state only refreshes OPEN timing;
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
    if (to === OPEN) this.openedCount++;
    else if (to !== HALF_OPEN) {
      this.consecutive = 0;
      this.window?.clear();
      this.openAttempt = 0;
    }
    this.transition(to, reason, now, 'fleet');
  }

  /** Recent notable events (transitions, failures, rejections, timeouts, fallbacks, ignored errors), oldest first. */
  recentEvents(): BreakerEvent[] {
    return this.recent === undefined ? [] : this.recent.toArray();
  }

  // ---------------------------------------------------------------- events

  /** Records a notable event in the ring buffer and hands it to listeners. */
  protected note(type: BreakerEventType, error: unknown, durationMs: number | undefined): void {
    if (
      this.options.recentEventsSize === 0 &&
      !this.callHub.active &&
      !(this.sinks !== undefined && this.sinks.calls.active)
    )
      return;
    const event: BreakerEvent = { type, name: this.name, at: this.clock.now() };
    if (error !== undefined) event.error = error;
    if (durationMs !== undefined) event.durationMs = durationMs;
    this.remember(event);
    this.publish(event);
  }

  private remember(event: BreakerEvent): void {
    if (this.options.recentEventsSize === 0) return;
    (this.recent ??= new RingBuffer(this.options.recentEventsSize)).push(event);
  }

  /** Gives this breaker hubs of its own (before the first subscription). */
  protected ownHubs(): void {
    if (this.callHub === IDLE_HUB) this.callHub = new EventHub();
    if (this.transitionHub === IDLE_HUB) this.transitionHub = new EventHub();
  }

  private publish(event: BreakerEvent): void {
    if (this.callHub.active) this.callHub.emit(event);
    if (this.sinks !== undefined && this.sinks.calls.active) this.sinks.calls.emit(event);
  }

  private duration(start: number, now: number): number | undefined {
    return this.readsStart ? now - start : undefined;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
