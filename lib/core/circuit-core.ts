import { AdaptiveThrottle } from './adaptive-throttle';
import { BreakerReporting } from './breaker-reporting';
import type { Clock } from './clock';
import { CallThrottledError, CircuitOpenError, ResultFailureError, type CallTimeoutError } from './errors';
import type { FleetParticipation } from './fleet-participation';
import { CLOSED, DISABLED, HALF_OPEN, METRICS_ONLY, OPEN, REJECTED, STATES } from './circuit-state';
import { openDuration } from './open-duration';
import type { ResolvedOptions } from './options';
import { CountWindow, rateTripReason, TimeWindow, type SlidingWindow } from './sliding-window';
import type { TransitionSource } from './store';
import type { BreakerEvent } from './types';

// Who asks `admit()` for a permit.
type Asker = 0 | 1 | 2 | 3 | 4;
/** A new call (`acquire`): counted here; the throttle draws in CLOSED; a shared store admits its probe. */
const NEW_CALL = 0;
/** A queued call whose state changed while it waited (`readmit`): counted already; the throttle draws; no fleet. */
const QUEUED_CALL = 1;
/** A counted call decided by local rules alone (sync calls, the store answered 'local' or not at all). */
const LOCAL_CALL = 2;
/** The store granted the fleet's probe permit to a call `acquire()` sent to ask it. */
const FLEET_GRANTED = 3;
/** The store refused it (another instance holds the fleet's probes). */
const FLEET_REFUSED = 4;

/**
 * Cumulative counters that most breakers never move off zero (ignored errors, cancellations, timeouts,
 * fallbacks served, retries, openings, throttled calls). They live in a separate object created by the first of them, so a
 * healthy breaker does not carry five zero fields; the counters every call touches stay on the breaker.
 */
export class OccasionalCounts {
  ignored = 0;
  cancelled = 0;
  timeouts = 0;
  fallbacks = 0;
  retries = 0;
  opened = 0;
  throttled = 0;
}

/**
 * The circuit itself: its state, the counters every call moves, permits, outcomes and transitions.
 * Every call asks `acquire()` for a permit, then reports exactly one outcome for it (success, failure,
 * ignored, cancelled or released). A permit carries the generation of the state that issued it: an
 * outcome that arrives after the state changed updates the cumulative counters but never the window,
 * the consecutive count or the probes of the new state.
 */
export abstract class CircuitCore extends BreakerReporting {
  protected mode = CLOSED;
  protected generation = 1;
  protected openedAt = 0;
  protected openDurationMs = 0;
  protected openAttempt = 0;
  protected probesInFlight = 0;
  private probeSuccesses = 0;
  protected consecutive = 0;
  protected totalCalls = 0;
  protected successfulCalls = 0;
  protected failedCalls = 0;
  protected rejectedCalls = 0;
  protected slowCalls = 0;
  /** Counters most breakers never move (see OccasionalCounts): created by the first of them. */
  protected counts: OccasionalCounts | undefined = undefined;
  /** Created by the first thing a shared store tells this breaker; undefined without one (the usual case). */
  protected fleet: FleetParticipation | undefined = undefined;
  protected lastTransitionAt: number;
  protected readonly window: SlidingWindow | undefined;
  /** The adaptive throttle (`throttle` option); undefined without it (the usual case). */
  protected readonly throttle: AdaptiveThrottle | undefined;
  /** Set when `acquire()` refused only because the throttle drew against the call (read by `reject()`). */
  private throttledNow = false;
  /** @internal A call's start time is needed (slow-call detection, a duration observer). */
  readsStart: boolean;
  /** A call's end time is needed (slow calls, a time window, a duration observer). */
  protected readsEnd: boolean;

  constructor(
    name: string,
    options: ResolvedOptions,
    clock: Clock,
    /** @internal */
    readonly random: () => number = Math.random,
  ) {
    super(name, options, clock);
    const o = options;
    // Assigned on every path (as is every field above): breakers of any configuration then share one
    // hidden class, so the hot paths' property reads stay monomorphic.
    this.window = !o.keepsWindow
      ? undefined
      : o.window.type === 'count'
        ? new CountWindow(o.window.size)
        : new TimeWindow(o.window.sizeMs, o.window.buckets);
    this.throttle =
      o.throttle === undefined ? undefined : new AdaptiveThrottle(o.throttle.k, o.throttle.windowMs);
    this.readsStart = o.slowCallDurationMs !== undefined;
    this.readsEnd = this.readsStart || this.window instanceof TimeWindow || this.throttle !== undefined;
    this.lastTransitionAt = clock.now();
  }

  protected updateTiming(): void {
    const timed = this.options.slowCallDurationMs !== undefined || this.durationObservers.length !== 0;
    this.readsStart = timed;
    this.readsEnd = timed || this.window instanceof TimeWindow || this.throttle !== undefined;
  }

  protected occasional(): OccasionalCounts {
    return (this.counts ??= new OccasionalCounts());
  }

  // ---------------------------------------------------------------- permits

  /**
   * @internal Returns a permit (the current generation) or REJECTED for a new call, and counts it. OPEN
   * turns HALF_OPEN here, lazily. REJECTED with `askFleet` set means a shared store must admit the probe:
   * an async caller then waits for `fleetProbe()`, a sync one takes `decideLocally()`.
   */
  acquire(): number {
    // The hot path: CLOSED without a throttle admits every call (admit() would decide the same).
    if (this.mode === CLOSED && this.throttle === undefined) {
      this.totalCalls++;
      return this.generation;
    }
    return this.admit(NEW_CALL);
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

  /** @internal A permit by local rules alone, for a call already counted (sync calls, or no answer from the store). */
  decideLocally(): number {
    return this.admit(LOCAL_CALL);
  }

  /**
   * @internal
   * The permit of a call leaving the bulkhead queue: its own while the state is the one that admitted it;
   * after a change, admission is asked again (the call is already counted, and is not counted twice).
   * REJECTED when the circuit now refuses it.
   */
  readmit(permit: number): number {
    return permit === this.generation ? permit : this.admit(QUEUED_CALL);
  }

  /**
   * @internal
   * The permit for a call whose `acquire()` asked the fleet (`askFleet`), once the store answered. The
   * call is already counted in `totalCalls`.
   */
  fleetProbe(): Promise<number> {
    const link = this.fleet?.link;
    if (link === undefined) return Promise.resolve(this.admit(LOCAL_CALL));
    return link.acquireProbe().then((answer) => {
      if (answer === 'local') return this.admit(LOCAL_CALL);
      if (answer !== 'granted') return this.admit(FLEET_REFUSED);
      const permit = this.admit(FLEET_GRANTED);
      // A fleet permit this breaker does not spend on a probe (full, or the state moved on) goes back.
      if (permit === REJECTED || this.mode !== HALF_OPEN) link.probeReleased();
      return permit;
    });
  }

  /**
   * The one admission decision, per state; `asker` says who asks (see the constants above the class):
   * whether the call is counted here, whether the throttle draws, and how the fleet takes part.
   */
  private admit(asker: Asker): number {
    const mode = this.mode;
    // A DISABLED permit is the negated generation: its call records nothing, even if it ends after the
    // state changed (a plain generation would then look like a late outcome, which counts).
    if (mode === DISABLED) return -this.generation;
    if (asker === NEW_CALL) this.totalCalls++;
    const fleet = this.fleet;
    if (fleet !== undefined && asker === NEW_CALL) fleet.asking = false;
    switch (mode) {
      case CLOSED:
        if (this.throttle !== undefined && (asker === NEW_CALL || asker === QUEUED_CALL) && this.throttles())
          return REJECTED;
        return this.generation;
      case METRICS_ONLY:
        return this.generation;
      case OPEN: {
        // The store answered for a state that has since reopened: the answer is stale, the call refused.
        if (asker === FLEET_GRANTED || asker === FLEET_REFUSED) return REJECTED;
        const now = this.clock.now();
        if (now - this.openedAt < this.openDurationMs) return REJECTED;
        this.transition(HALF_OPEN, `${this.openDurationMs} ms elapsed since opening`, now);
        return this.admitProbe(asker);
      }
      case HALF_OPEN:
        return this.admitProbe(asker);
      default:
        // FORCED_OPEN
        return REJECTED;
    }
  }

  /** HALF_OPEN admission: a probe while there is room, and a shared store admits new calls' probes fleet-wide. */
  private admitProbe(asker: Asker): number {
    if (this.probesInFlight >= this.options.halfOpenMaxCalls || asker === FLEET_REFUSED) return REJECTED;
    const fleet = this.fleet;
    if (asker === NEW_CALL && fleet !== undefined && fleet.shared) {
      fleet.asking = true;
      return REJECTED;
    }
    this.probesInFlight++;
    return this.generation;
  }

  /** Draws whether the throttle refuses a CLOSED call (probes are exempt; a refusal counts as a request). */
  private throttles(): boolean {
    const refused = !(this.throttle as AdaptiveThrottle).admits(this.clock.now(), this.random, this);
    this.throttledNow = refused;
    // A refusal here is the throttle's alone: no half-open probe is waiting for the fleet.
    if (refused && this.fleet !== undefined) this.fleet.asking = false;
    return refused;
  }

  /** @internal Counts a rejection and builds its error (without a stack trace: it is thrown per call on a hot path). */
  reject(): CircuitOpenError {
    this.rejectedCalls++;
    if (this.throttledNow) return this.rejectThrottled();
    const state = STATES[this.mode];
    const retryAfterMs =
      this.mode === OPEN ? Math.max(0, this.openedAt + this.openDurationMs - this.clock.now()) : 0;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const error = new CircuitOpenError(this.name, state, retryAfterMs, { key: this.key });
    Error.stackTraceLimit = limit;
    this.note('rejected', error, undefined);
    return error;
  }

  private rejectThrottled(): CallThrottledError {
    this.throttledNow = false;
    this.occasional().throttled++;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const throttle = this.throttle as AdaptiveThrottle;
    // The probability the call was drawn against: the counts before its own request.
    const error = new CallThrottledError(this.name, throttle.lastProbability, this.key);
    Error.stackTraceLimit = limit;
    this.note('rejected', error, undefined);
    return error;
  }

  /** @internal A permit handed back without an outcome (bulkhead full): counted as rejected, never as failure. */
  release(permit: number, error: unknown): void {
    this.rejectedCalls++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
    this.note('rejected', error, undefined);
  }

  // ---------------------------------------------------------------- outcomes

  /** @internal */
  onSuccess(permit: number, start: number): void {
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
    if (permit < 0) return; // admitted while DISABLED: records nothing
    let now = 0;
    let slow = false;
    if (this.readsEnd) {
      now = this.clock.now();
      slow = this.isSlow(now - start);
    }
    this.successfulCalls++;
    if (slow) this.slowCalls++;
    if (this.durationObservers.length !== 0) this.observeDuration(now - start, false);
    if (permit === this.generation) {
      if (mode === CLOSED || mode === METRICS_ONLY) {
        this.consecutive = 0;
        if (mode === CLOSED && this.throttle !== undefined) this.throttle.record(now, true);
        const w = this.window;
        if (w !== undefined) {
          w.record(now, false, slow);
          // A success can still trip: it may bring the window up to minimumCalls, or expiry may have
          // dropped older successes (`>=` is judged after every recorded call).
          if (mode === CLOSED) this.checkRates(now, undefined);
        }
      } else if (mode === HALF_OPEN) {
        this.probesInFlight--;
        if (slow && this.options.slowCallRateThreshold !== undefined) {
          const reason = `half-open probe was slow (${now - start} ms > ${this.options.slowCallDurationMs} ms)`;
          this.open(now, reason, undefined);
        } else {
          // With a reachable store the fleet counts successes and closes everywhere at once.
          const fleetJudges = this.fleet !== undefined && this.fleet.probeSucceeded();
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

  /** @internal */
  onFailure(permit: number, start: number, error: unknown, timedOut = false): void {
    const mode = this.mode;
    if (permit < 0) return; // admitted while DISABLED: records nothing
    const now = this.clock.now();
    const slow = this.readsStart && this.isSlow(now - start);
    this.failedCalls++;
    if (slow) this.slowCalls++;
    if (timedOut) this.occasional().timeouts++;
    if (this.durationObservers.length !== 0) this.observeDuration(now - start, true);
    // The failure is told before the transition it causes, so event streams read cause then effect.
    this.note(timedOut ? 'timeout' : 'failure', error, this.duration(start, now));
    if (permit !== this.generation) return;
    if (mode === CLOSED || mode === METRICS_ONLY) {
      this.consecutive++;
      this.window?.record(now, true, slow);
      if (mode === CLOSED) {
        this.throttle?.record(now, false);
        if (this.consecutive >= this.options.failureThreshold) {
          this.open(
            now,
            `${this.consecutive} consecutive failures >= ${this.options.failureThreshold}`,
            error,
          );
        } else if (this.window !== undefined) {
          this.checkRates(now, error);
        }
      }
    } else if (mode === HALF_OPEN) {
      this.probesInFlight--;
      this.open(now, timedOut ? 'half-open probe timed out' : 'half-open probe failed', error);
    }
  }

  /** @internal */
  onTimeout(permit: number, start: number, error: CallTimeoutError): void {
    this.onFailure(permit, start, error, true);
  }

  /** @internal An error the classifier said is not a failure: passes through, touches neither window nor counts. */
  onIgnored(permit: number, error: unknown): void {
    if (permit < 0) return; // admitted while DISABLED: records nothing
    this.occasional().ignored++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
    // An ignored error is the downstream answering: an accept for the throttle.
    if (permit === this.generation && this.mode === CLOSED && this.throttle !== undefined)
      this.throttle.record(this.clock.now(), true);
    this.note('ignored', error, undefined);
  }

  /** @internal A call its caller abandoned (unsubscribed, aborted): records nothing, gives a probe permit back. */
  onCancel(permit: number): void {
    if (permit < 0) return; // admitted while DISABLED: records nothing
    this.occasional().cancelled++;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
  }

  /** @internal Undoes `acquire()` for a call that will be re-run through another path (counts nothing). */
  giveBack(permit: number): void {
    if (permit < 0) return; // admitted while DISABLED: records nothing
    this.totalCalls--;
    if (permit === this.generation && this.mode === HALF_OPEN) this.releaseProbe();
    if (permit === REJECTED && this.throttledNow) {
      // A refused call that asks again through another path: its request is counted there.
      this.throttle?.forgetRefusal();
      this.throttledNow = false;
    }
  }

  private releaseProbe(): void {
    this.probesInFlight--;
    if (this.fleet !== undefined) this.fleet.probeReleased();
  }

  /** Only called while timing is on (`readsStart`/`readsEnd`): without a slow-call limit no call is slow. */
  private isSlow(ms: number): boolean {
    const limit = this.options.slowCallDurationMs;
    return limit !== undefined && ms > limit;
  }

  private duration(start: number, now: number): number | undefined {
    return this.readsStart ? now - start : undefined;
  }

  /**
   * `now`: the call's end time when it was read (readsEnd), else a placeholder: read the clock to trip.
   * `cause`: the failure being recorded, if any (its Retry-After may lengthen the opening).
   */
  private checkRates(now: number, cause: unknown): void {
    const w = this.window as SlidingWindow;
    // With a shared store the window is the fleet's: the other instances' totals as of the last flush.
    const fleet = this.fleet;
    const total = fleet === undefined ? w.total : w.total + fleet.total;
    if (total < this.options.minimumCalls) return;
    const reason =
      fleet === undefined
        ? rateTripReason(this.options, total, w.failures, w.slow, false)
        : rateTripReason(
            this.options,
            total,
            w.failures + fleet.failures,
            w.slow + fleet.slow,
            fleet.total !== 0,
          );
    if (reason !== undefined) this.open(this.readsEnd ? now : this.clock.now(), reason, cause);
  }

  // ---------------------------------------------------------------- transitions

  /** `cause`: the failure that opens the circuit; a downstream's Retry-After on it sets a minimum duration. */
  private open(now: number, reason: string, cause: unknown): void {
    this.openAttempt++;
    this.occasional().opened++;
    this.openedAt = now;
    this.openDurationMs = openDuration(this, this.options, this.openAttempt, this.random);
    const hint =
      cause instanceof ResultFailureError && cause.retryAfterMs !== undefined ? cause.retryAfterMs : 0;
    if (hint > this.openDurationMs && Number.isFinite(hint)) {
      this.openDurationMs = hint;
      reason += ` (the downstream asked to retry after ${hint} ms)`;
    }
    this.transition(OPEN, reason, now);
  }

  protected transition(to: number, reason: string, now: number, source: TransitionSource = 'local'): void {
    const from = this.mode;
    this.mode = to;
    this.generation++;
    this.lastTransitionAt = now;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    if (this.fleet !== undefined) this.fleet.clearWindow();
    if (to === CLOSED) {
      this.consecutive = 0;
      this.openAttempt = 0;
      this.window?.clear();
      this.throttle?.clear();
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
    this.announce(event);
    const fleet = this.fleet;
    if (fleet !== undefined && source !== 'fleet') fleet.transitioned(source, reason);
  }
}
