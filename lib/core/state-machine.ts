import { CircuitState } from './circuit-state';
import type { Clock } from './clock';
import { CircuitOpenError, type CallTimeoutError } from './errors';
import { EventHub, RingBuffer } from './event-hub';
import type { ResolvedOptions } from './options';
import { CountWindow, TimeWindow, type SlidingWindow } from './sliding-window';
import type { BreakerEvent, BreakerEventType, BreakerSnapshot, StoreStatus } from './types';

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

export abstract class BreakerStateMachine {
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
  private durationObservers: DurationObserver[] = [];

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

  protected readonly callHub = new EventHub();
  protected readonly transitionHub = new EventHub();
  private readonly recent: RingBuffer<BreakerEvent>;
  private sinks: EventSinks | undefined;
  protected storeStatus: StoreStatus = 'memory';

  constructor(
    readonly name: string,
    protected readonly options: ResolvedOptions,
    protected readonly clock: Clock,
    protected readonly random: () => number = Math.random,
  ) {
    const o = options;
    this.tripsOnRate = o.failureRateThreshold !== undefined || o.slowCallRateThreshold !== undefined;
    if (this.tripsOnRate) {
      this.window =
        o.window.type === 'count'
          ? new CountWindow(o.window.size)
          : new TimeWindow(o.window.sizeMs, o.window.buckets);
    }
    this.slowMs = o.slowCallDurationMs ?? Infinity;
    this.tripsOnSlowProbe = o.slowCallRateThreshold !== undefined;
    this.readsStart = o.slowCallDurationMs !== undefined;
    this.readsEnd = this.readsStart || this.window instanceof TimeWindow;
    this.recent = new RingBuffer(o.recentEventsSize);
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

  private acquireSlow(): number {
    const mode = this.mode;
    if (mode === DISABLED) return this.generation;
    this.totalCalls++;
    if (mode === METRICS_ONLY) return this.generation;
    if (mode === OPEN) {
      const now = this.clock.now();
      if (now - this.openedAt < this.openDurationMs) return REJECTED;
      this.transition(HALF_OPEN, `${this.openDurationMs} ms elapsed since opening`, now);
    }
    if (this.mode === HALF_OPEN && this.probesInFlight < this.options.halfOpenMaxCalls) {
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
    if (permit === this.generation && this.mode === HALF_OPEN) this.probesInFlight--;
    this.note('rejected', error, undefined);
  }

  // ---------------------------------------------------------------- outcomes

  protected onSuccess(permit: number, start: number): void {
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
          if (slow && mode === CLOSED) this.checkRates(now);
        }
      } else if (mode === HALF_OPEN) {
        this.probesInFlight--;
        if (slow && this.tripsOnSlowProbe) {
          this.open(now, `half-open probe was slow (${now - start} ms > ${this.slowMs} ms)`);
        } else if (++this.probeSuccesses >= this.options.successThreshold) {
          this.transition(CLOSED, `${this.probeSuccesses} successful probe(s)`, now || this.clock.now());
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
    if (permit === this.generation) {
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
    }
    this.note(timedOut ? 'timeout' : 'failure', error, this.duration(start, now));
  }

  /** An error the classifier said is not a failure: passes through, touches neither window nor counts. */
  protected onIgnored(permit: number, error: unknown): void {
    if (this.mode === DISABLED && permit === this.generation) return;
    this.ignoredCalls++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.probesInFlight--;
    this.note('ignored', error, undefined);
  }

  /** An Observable unsubscribed before it finished: records nothing, gives a probe permit back. */
  protected onCancel(permit: number): void {
    if (this.mode === DISABLED && permit === this.generation) return;
    this.cancelledCalls++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.probesInFlight--;
  }

  /** Undoes `acquire()` for a call that will be re-run through another path (counts nothing). */
  protected giveBack(permit: number): void {
    if (this.mode === DISABLED && permit === this.generation) return;
    this.totalCalls--;
    if (permit === this.generation && this.mode === HALF_OPEN) this.probesInFlight--;
  }

  protected onTimeout(permit: number, start: number, error: CallTimeoutError): void {
    this.onFailure(permit, start, error, true);
  }

  private checkRates(now: number): void {
    const w = this.window as SlidingWindow;
    const total = w.total;
    if (total < this.options.minimumCalls) return;
    const o = this.options;
    if (o.failureRateThreshold !== undefined && w.failures * 100 >= o.failureRateThreshold * total) {
      this.open(
        now,
        `failure rate ${round((w.failures / total) * 100)}% >= ${o.failureRateThreshold}% over ${total} calls`,
      );
    } else if (o.slowCallRateThreshold !== undefined && w.slow * 100 >= o.slowCallRateThreshold * total) {
      this.open(
        now,
        `slow-call rate ${round((w.slow / total) * 100)}% >= ${o.slowCallRateThreshold}% over ${total} calls`,
      );
    }
  }

  // ---------------------------------------------------------------- transitions

  private open(now: number, reason: string): void {
    this.openAttempt++;
    this.openedCount++;
    this.openedAt = now;
    this.openDurationMs = this.openDuration(this.openAttempt);
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

  private transition(to: number, reason: string, now: number): void {
    const from = this.mode;
    this.mode = to;
    this.generation++;
    this.lastTransitionAt = now;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
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
    if (to === OPEN) event.retryAfterMs = this.openDurationMs;
    this.recent.push(event);
    if (this.transitionHub.active) this.transitionHub.emit(event);
    if (this.sinks !== undefined && this.sinks.transitions.active) this.sinks.transitions.emit(event);
  }

  /** Manual control: a fresh start in `to`, whatever the state was. */
  private manual(to: number, reason: string): void {
    this.consecutive = 0;
    this.window?.clear();
    if (to !== OPEN) this.openAttempt = 0;
    this.transition(to, reason, this.clock.now());
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

  /** Recent notable events (transitions, failures, rejections, timeouts, fallbacks, ignored errors), oldest first. */
  recentEvents(): BreakerEvent[] {
    return this.recent.toArray();
  }

  // ---------------------------------------------------------------- events

  /** Records a notable event in the ring buffer and hands it to listeners. */
  protected note(type: BreakerEventType, error: unknown, durationMs: number | undefined): void {
    if (
      this.recent.capacity === 0 &&
      !this.callHub.active &&
      !(this.sinks !== undefined && this.sinks.calls.active)
    )
      return;
    const event: BreakerEvent = { type, name: this.name, at: this.clock.now() };
    if (error !== undefined) event.error = error;
    if (durationMs !== undefined) event.durationMs = durationMs;
    this.recent.push(event);
    this.publish(event);
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
