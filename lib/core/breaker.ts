import { setMaxListeners } from 'node:events';
import type { Observable, Subscriber, TeardownLogic } from 'rxjs';
import { Bulkhead } from './bulkhead';
import { callerSignal, withCallSignal } from './call-signal';
import { systemClock, type Clock } from './clock';
import { BulkheadFullError, CallTimeoutError, CircuitOpenError, ResultFailureError } from './errors';
import { LastKnownGood } from './last-known-good';
import { resolveOptions, type ResolvedOptions } from './options';
import { retryDelay } from './retry-delay';
import { isObservableLike, isPromiseLike, loadRx } from './rx';
import { sleep } from './sleep';
import { BreakerStateMachine, REJECTED } from './state-machine';
import type { BreakerEvent, BreakerOptions, FallbackOption } from './types';

/** What a breaker (or a decorated method) has learnt about the shape of its function's results. */
export interface ShapeMemory {
  shape: Shape;
}
export type Shape = 'unknown' | 'promise' | 'observable' | 'sync';

const AsyncFunction = async function () {}.constructor;

type AnyFn = (...args: never[]) => unknown;
type Call = (...args: unknown[]) => unknown;

// The fast handlers' placeholders until a first call builds the real ones (shared: nothing per breaker).
const passValue = (value: unknown): unknown => value;
const passError = (error: unknown): never => {
  throw error;
};

/**
 * @internal What surrounds the breaker for one caller: the fallback (with its own last-known-good cache)
 * and whether a call is a single attempt. Callers that share a breaker (decorated methods sharing a name)
 * keep their own fallbacks this way while sharing one circuit.
 */
export interface CallPolicy {
  /** No fallback and no retry: a call is one attempt and its outcome is the caller's. */
  readonly plain: boolean;
  readonly fallback: FallbackOption | undefined;
  readonly lastKnownGood: LastKnownGood | undefined;
}

export interface BreakerDeps {
  clock?: Clock;
  /** Randomness for jitter (halfOpenBackoff, retry). Default Math.random. */
  random?: () => number;
}

/**
 * One circuit breaker: the state machine plus the policies around it, applied in this order (outermost
 * first): fallback → retry → breaker → bulkhead → timeout → fn.
 *
 * @example
 * const payment = createBreaker('payment', { failureThreshold: 3, halfOpenAfterMs: 30_000 });
 * const receipt = await payment.executePromise(() => api.charge(order));
 */
export class Breaker extends BreakerStateMachine {
  /** @internal The shape `execute()` has seen (this breaker is its own ShapeMemory: one object less each). */
  shape: Shape = 'unknown';
  /** @internal No fallback and no retry: a call is one attempt and its outcome is the caller's. */
  readonly plain: boolean;
  /** @internal The breaker's own fallback (this breaker is its own default CallPolicy). */
  readonly fallback: FallbackOption | undefined;
  private readonly bulkhead: Bulkhead | undefined;
  /** @internal The breaker's own last-known-good cache. A decorated method may bring its own policy (`callPolicy`). */
  readonly lastKnownGood: LastKnownGood | undefined;
  /** Aborted by dispose(); created on first need (only retry waits and bulkhead queues listen to it). */
  private closingController: AbortController | undefined;
  // Handlers for the common case (no timing, no timeout; with a bulkhead they free the slot), rebuilt once
  // per state generation.
  private fastPermit = -1;
  private fastOk: (value: unknown) => unknown = passValue;
  private fastErr: (error: unknown) => never = passError;
  private fastEligible = false;

  constructor(
    name: string,
    options: ResolvedOptions,
    clock: Clock = systemClock,
    random: () => number = Math.random,
  ) {
    super(name, options, clock, random);
    const own = this.callPolicy(undefined);
    this.plain = own.plain;
    this.fallback = own.fallback;
    this.lastKnownGood = own.lastKnownGood;
    this.bulkhead = options.bulkhead === undefined ? undefined : new Bulkhead(name, options.bulkhead);
    this.updateTiming();
  }

  protected override updateTiming(): void {
    super.updateTiming();
    this.fastEligible =
      !this.readsStart && this.options.callTimeoutMs === undefined && this.bulkhead === undefined;
  }

  /** Every event of this breaker (each call then allocates an event: prefer `stateChanges$` to watch transitions). */
  get events$(): Observable<BreakerEvent> {
    this.ownHubs();
    return this.transitionHub.observable(this.callHub);
  }

  /** Only the `state_change` events. */
  get stateChanges$(): Observable<BreakerEvent> {
    this.ownHubs();
    return this.transitionHub.observable();
  }

  /** Listeners on this breaker's own streams (for leak checks). */
  get listenerCount(): number {
    return this.callHub.listenerCount + this.transitionHub.listenerCount;
  }

  // ---------------------------------------------------------------- public execution

  /**
   * Runs `fn(...args)` through the breaker and keeps its shape: a Promise stays a Promise, an Observable
   * a cold Observable (one call per subscription), a plain value a plain value (a sync throw stays sync).
   * When the call is rejected without running, the rejection takes the shape this breaker has seen
   * (an `async` function always gets a rejected Promise; with nothing known, a synchronous throw).
   */
  execute<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return this.run(this, fn as AnyFn, undefined, args) as R;
  }

  /** Always a Promise: sync results and throws are lifted. */
  executePromise<A extends unknown[], T>(fn: (...args: A) => T | PromiseLike<T>, ...args: A): Promise<T> {
    // The common case (CLOSED; no fallback, retry, timing, timeout or bulkhead) takes the steps of the
    // general pipeline without its layers; `fn(...args)` forwards the arguments without copying them.
    // `args.length === 0 ||` first: a call without arguments then never materialises the rest array.
    if (this.plain && this.fastEligible && (args.length === 0 || callerSignal(args) === undefined)) {
      const permit = this.acquireClosed();
      if (permit !== REJECTED) {
        let result: unknown;
        try {
          result = fn(...args);
        } catch (error) {
          this.settleError(permit, 0, error);
          return Promise.reject(error);
        }
        return this.settleUntimed(permit, result) as Promise<T>;
      }
    }
    return this.runPromise(fn as AnyFn, undefined, args) as Promise<T>;
  }

  /** Always a cold Observable; the permit is checked per subscription. */
  executeObservable<A extends unknown[], T>(
    fn: (...args: A) => Observable<T> | PromiseLike<T> | T,
    ...args: A
  ): Observable<T> {
    return this.runObservable(fn as AnyFn, undefined, args) as Observable<T>;
  }

  /** Never async: a rejection is a synchronous throw. (Retry does not apply: it cannot wait.) */
  executeSync<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T {
    return this.runSync(fn as AnyFn, undefined, args) as T;
  }

  /** Rejects queued bulkhead callers and stops retry waits. Called when the owning registry closes. */
  dispose(): void {
    const error = new Error(`circuit breaker "${this.name}" was disposed`);
    const closing = this.closing;
    if (!closing.signal.aborted) closing.abort(error);
    this.bulkhead?.rejectAll(error);
  }

  /** The controller dispose() aborts. Lazy: a breaker that never waits never pays for one. */
  private get closing(): AbortController {
    let controller = this.closingController;
    if (controller === undefined) {
      controller = this.closingController = new AbortController();
      // Every caller waiting in the bulkhead queue or a retry backoff listens on this one signal until its
      // wait ends: thousands at once is normal, not a leak, so Node's listener-count warning must not fire.
      setMaxListeners(0, controller.signal);
    }
    return controller;
  }

  protected override bulkheadCounts(): { bulkheadActive: number; bulkheadQueued: number } {
    const b = this.bulkhead;
    return b === undefined
      ? { bulkheadActive: 0, bulkheadQueued: 0 }
      : { bulkheadActive: b.active, bulkheadQueued: b.queued };
  }

  /**
   * @internal A policy with `fallback` (validated, as `resolveOptions` returns it) in place of the breaker's
   * own; undefined keeps the breaker's. Each policy has its own last-known-good cache. Function fallbacks
   * are called with `this` bound to the caller's `thisArg`.
   */
  callPolicy(fallback: FallbackOption | undefined): CallPolicy {
    const chosen = fallback ?? this.options.fallback;
    return {
      plain: chosen === undefined && this.options.retry === undefined,
      fallback: chosen,
      lastKnownGood:
        chosen !== undefined && typeof chosen === 'object' && 'lastKnownGood' in chosen
          ? new LastKnownGood(chosen.lastKnownGood, this.clock)
          : undefined,
    };
  }

  // ---------------------------------------------------------------- shape dispatch (also used by the decorator)

  /**
   * @internal Runs with per-caller shape memory and `this` binding. The memory only decides the shape of
   * a rejection (and, with retry or fallback, which pipeline runs); a call that runs keeps its own shape.
   */
  run(memory: ShapeMemory, fn: AnyFn, thisArg: unknown, args: unknown[], policy: CallPolicy = this): unknown {
    if (fn instanceof AsyncFunction) return this.runPromise(fn, thisArg, args, policy);
    if (!policy.plain) {
      const shape = memory.shape;
      if (shape === 'promise') return this.runPromise(fn, thisArg, args, policy);
      if (shape === 'observable') return this.runObservable(fn, thisArg, args, undefined, policy);
      if (shape === 'sync') return this.runSync(fn, thisArg, args, memory, policy);
    }
    return this.runDiscover(memory, fn, thisArg, args, policy);
  }

  /** Acquires now, calls fn, and continues in the pipeline that fits what came back. */
  private runDiscover(
    memory: ShapeMemory,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    policy: CallPolicy,
  ): unknown {
    let permit = this.acquire();
    if (permit === REJECTED) {
      if (memory.shape === 'observable') {
        // An Observable is checked per subscription: let the subscription decide.
        this.giveBack(permit);
        return this.runObservable(fn, thisArg, args, undefined, policy);
      }
      if (this.askFleet) {
        // A half-open probe the fleet admits: a Promise caller may wait for the store, others decide locally.
        if (memory.shape === 'promise') {
          this.giveBack(permit);
          return this.runPromise(fn, thisArg, args, policy);
        }
        permit = this.decideLocally();
      }
    }
    if (permit === REJECTED) {
      const error = this.reject();
      if (memory.shape === 'promise') return Promise.reject(error);
      if (policy.plain) throw error;
      return this.fallbackSync(args, error, thisArg, policy);
    }
    const bulkhead = this.bulkhead;
    let slot = false;
    if (bulkhead !== undefined) {
      if (bulkhead.tryEnter()) slot = true;
      else if (memory.shape === 'observable') {
        // An Observable takes its slot (or its place in the queue) per subscription.
        this.giveBack(permit);
        return this.runObservable(fn, thisArg, args, undefined, policy);
      } else if (bulkhead.hasQueueRoom && memory.shape === 'promise') {
        // Only a call known to return a Promise may wait in the queue: waiting would turn a sync call async.
        this.giveBack(permit);
        return this.runPromise(fn, thisArg, args, policy);
      } else {
        const full = bulkhead.full();
        this.release(permit, full);
        if (memory.shape === 'promise')
          return policy.plain
            ? Promise.reject(full)
            : this.policyPromise(fn, thisArg, args, policy, Promise.reject(full));
        if (policy.plain) throw full;
        return this.fallbackSync(args, full, thisArg, policy);
      }
    }
    const start = this.readsStart ? this.clock.now() : 0;
    const timeoutMs = this.options.callTimeoutMs;
    const controller = timeoutMs === undefined ? undefined : new AbortController();
    let result: unknown;
    try {
      result =
        controller === undefined
          ? (fn as Call).apply(thisArg, args)
          : this.callWithSignal(controller, fn, thisArg, args);
    } catch (error) {
      if (slot) bulkhead?.leave();
      memory.shape = 'sync';
      if (this.settleError(permit, start, error) && !policy.plain)
        return this.fallbackSync(args, error, thisArg, policy);
      throw error;
    }
    if (isPromiseLike(result)) {
      memory.shape = 'promise';
      const strict = !policy.plain;
      const attempt =
        controller === undefined
          ? this.trackPromise(permit, start, result, strict, slot, callerSignal(args))
          : this.withTimeout(
              permit,
              start,
              result,
              strict,
              slot,
              controller,
              timeoutMs as number,
              callerSignal(args),
            );
      return policy.plain ? attempt : this.policyPromise(fn, thisArg, args, policy, attempt);
    }
    if (slot) bulkhead?.leave();
    if (isObservableLike(result)) {
      memory.shape = 'observable';
      this.giveBack(permit);
      return this.runObservable(fn, thisArg, args, result, policy);
    }
    memory.shape = 'sync';
    return this.finishSync(permit, start, result, args, thisArg, policy);
  }

  private callWithSignal(controller: AbortController, fn: AnyFn, thisArg: unknown, args: unknown[]): unknown {
    const outer = callerSignal(args);
    const signal = outer === undefined ? controller.signal : AbortSignal.any([controller.signal, outer]);
    return withCallSignal(signal, () => (fn as Call).apply(thisArg, args));
  }

  // ---------------------------------------------------------------- sync

  /** @internal */
  runSync(
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    memory?: ShapeMemory,
    policy: CallPolicy = this,
  ): unknown {
    let permit = this.acquire();
    // A synchronous call cannot wait for the store: a fleet probe is admitted by local rules.
    if (permit === REJECTED && this.askFleet) permit = this.decideLocally();
    if (permit === REJECTED) {
      const error = this.reject();
      if (policy.plain) throw error;
      return this.fallbackSync(args, error, thisArg, policy);
    }
    const bulkhead = this.bulkhead;
    if (bulkhead !== undefined && !bulkhead.tryEnter()) {
      // A synchronous call cannot wait in the queue.
      const full = bulkhead.full();
      this.release(permit, full);
      if (policy.plain) throw full;
      return this.fallbackSync(args, full, thisArg, policy);
    }
    const start = this.readsStart ? this.clock.now() : 0;
    let result: unknown;
    try {
      result = (fn as Call).apply(thisArg, args);
    } catch (error) {
      bulkhead?.leave();
      if (this.settleError(permit, start, error) && !policy.plain)
        return this.fallbackSync(args, error, thisArg, policy);
      throw error;
    }
    bulkhead?.leave();
    if (memory !== undefined && (isPromiseLike(result) || isObservableLike(result))) {
      // The function changed shape: forget the memory so the next call discovers it again.
      memory.shape = 'unknown';
    }
    return this.finishSync(permit, start, result, args, thisArg, policy);
  }

  private finishSync(
    permit: number,
    start: number,
    result: unknown,
    args: unknown[],
    thisArg: unknown,
    policy: CallPolicy,
  ): unknown {
    if (this.isFailedResult(permit, start, result)) {
      return policy.plain
        ? result
        : this.fallbackSync(args, new ResultFailureError(this.name, result), thisArg, policy);
    }
    this.onSuccess(permit, start);
    policy.lastKnownGood?.store(args, result);
    return result;
  }

  private fallbackSync(args: unknown[], error: unknown, thisArg: unknown, policy: CallPolicy): unknown {
    const served = this.applyFallback(args, error, thisArg, policy);
    if (served !== NOT_SERVED) return served;
    if (error instanceof ResultFailureError && error.breakerName === this.name) return error.result;
    throw error;
  }

  // ---------------------------------------------------------------- promise

  /** @internal */
  runPromise(fn: AnyFn, thisArg: unknown, args: unknown[], policy: CallPolicy = this): Promise<unknown> {
    if (this.fastEligible) {
      // CLOSED without bulkhead: what attemptPromise would do, minus its branches.
      const permit = this.acquireClosed();
      if (permit !== REJECTED)
        return policy.plain
          ? this.invokePromise(permit, fn, thisArg, args, false, false)
          : this.firstAttemptClosed(permit, fn, thisArg, args, policy);
    }
    return policy.plain
      ? this.attemptPromise(fn, thisArg, args, false)
      : this.policyPromise(fn, thisArg, args, policy);
  }

  /**
   * policyPromise's first attempt on runPromise's fast path. A success needs nothing from retry or a
   * fallback, so it settles through the cached handler: no async frame and no extra promise per call.
   * Only a failure (or a value to judge or cache) enters policyPromise, as its already-started attempt.
   */
  private firstAttemptClosed(
    permit: number,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    policy: CallPolicy,
  ): Promise<unknown> {
    let result: unknown;
    try {
      result = (fn as Call).apply(thisArg, args);
    } catch (error) {
      this.settleError(permit, 0, error);
      return this.policyPromise(fn, thisArg, args, policy, Promise.reject(error));
    }
    if (
      isPromiseLike(result) &&
      policy.lastKnownGood === undefined &&
      this.options.isResultFailure === undefined
    ) {
      if (permit !== this.fastPermit) this.buildFastHandlers(permit);
      return Promise.resolve(result).then(this.fastOk, (error: unknown) => {
        this.settleRejection(permit, 0, error, callerSignal(args));
        return this.policyPromise(fn, thisArg, args, policy, Promise.reject(error));
      });
    }
    // invokePromise's ending for a strict attempt.
    let first: Promise<unknown>;
    if (isPromiseLike(result)) first = this.trackPromise(permit, 0, result, true, false, callerSignal(args));
    else {
      try {
        first = Promise.resolve(this.settleValue(permit, 0, result, true));
      } catch (error) {
        first = Promise.reject(error);
      }
    }
    return this.policyPromise(fn, thisArg, args, policy, first);
  }

  /** Fallback → retry around attempts. `first`: the first attempt, when it has already started. */
  private async policyPromise(
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    policy: CallPolicy,
    first?: Promise<unknown>,
  ): Promise<unknown> {
    const retry = this.options.retry;
    let error: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await (attempt === 1 && first !== undefined
          ? first
          : this.attemptPromise(fn, thisArg, args, true));
        policy.lastKnownGood?.store(args, value);
        return value;
      } catch (e) {
        error = e;
      }
      // The caller gave up: neither another attempt nor a fallback is of use to it.
      if (callerSignal(args)?.aborted === true) throw error;
      if (retry === undefined || attempt >= retry.maxAttempts || !this.shouldRetry(error)) break;
      const delay = retryDelay(retry.backoff, attempt, this.random);
      // When the circuit stays open past the backoff, the next attempt is refused at once: don't wait for it.
      if (this.rejectsFor(delay)) continue;
      // An abort (caller signal or disposal) ends the call with the abort's reason: no fallback for it.
      await sleep(this.clock, delay, this.waitSignal(args));
    }
    return this.fallbackSync(args, error, thisArg, policy);
  }

  private attemptPromise(fn: AnyFn, thisArg: unknown, args: unknown[], strict: boolean): Promise<unknown> {
    const permit = this.acquire();
    if (permit === REJECTED) {
      if (this.askFleet) {
        return this.fleetProbe().then((granted) => this.attemptGranted(granted, fn, thisArg, args, strict));
      }
      return Promise.reject(this.reject());
    }
    return this.attemptGranted(permit, fn, thisArg, args, strict);
  }

  /** The rest of an attempt once the breaker answered (REJECTED included). */
  private attemptGranted(
    permit: number,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    strict: boolean,
  ): Promise<unknown> {
    if (permit === REJECTED) return Promise.reject(this.reject());
    const bulkhead = this.bulkhead;
    if (bulkhead === undefined) return this.invokePromise(permit, fn, thisArg, args, strict, false);
    if (bulkhead.tryEnter()) return this.invokePromise(permit, fn, thisArg, args, strict, true);
    if (!bulkhead.hasQueueRoom) {
      const full = bulkhead.full();
      this.release(permit, full);
      return Promise.reject(full);
    }
    return bulkhead.wait(this.waitSignal(args)).then(
      () => this.invokePromise(permit, fn, thisArg, args, strict, true),
      (error: unknown) => {
        if (error instanceof BulkheadFullError) this.release(permit, error);
        else this.onCancel(permit);
        throw error;
      },
    );
  }

  /** Runs fn holding `permit` (and a bulkhead slot when `slot`), and settles both once. */
  private invokePromise(
    permit: number,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    strict: boolean,
    slot: boolean,
  ): Promise<unknown> {
    const start = this.readsStart ? this.clock.now() : 0;
    const timeoutMs = this.options.callTimeoutMs;
    let controller: AbortController | undefined;
    let result: unknown;
    try {
      if (timeoutMs !== undefined) {
        controller = new AbortController();
        result = this.callWithSignal(controller, fn, thisArg, args);
      } else {
        result = (fn as Call).apply(thisArg, args);
      }
    } catch (error) {
      if (slot) this.bulkhead?.leave();
      this.settleError(permit, start, error);
      return Promise.reject(error);
    }
    if (!isPromiseLike(result)) {
      if (slot) this.bulkhead?.leave();
      try {
        return Promise.resolve(this.settleValue(permit, start, result, strict));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (controller !== undefined)
      return this.withTimeout(
        permit,
        start,
        result,
        strict,
        slot,
        controller,
        timeoutMs as number,
        callerSignal(args),
      );
    return this.trackPromise(permit, start, result, strict, slot, callerSignal(args));
  }

  private trackPromise(
    permit: number,
    start: number,
    result: PromiseLike<unknown>,
    strict: boolean,
    slot: boolean,
    signal?: AbortSignal,
  ): Promise<unknown> {
    // A bulkhead breaker's cached handlers free the slot, and every call of its that gets here holds one.
    if (
      !strict &&
      signal === undefined &&
      slot === (this.bulkhead !== undefined) &&
      !this.readsStart &&
      this.options.callTimeoutMs === undefined
    ) {
      if (permit !== this.fastPermit) this.buildFastHandlers(permit);
      return Promise.resolve(result).then(this.fastOk, this.fastErr);
    }
    return Promise.resolve(result).then(
      (value) => {
        if (slot) this.bulkhead?.leave();
        return this.settleValue(permit, start, value, strict);
      },
      (error: unknown) => {
        if (slot) this.bulkhead?.leave();
        this.settleRejection(permit, start, error, signal);
        throw error;
      },
    );
  }

  /**
   * A rejected call: when the caller's own signal has aborted, the caller gave up: a cancellation (nothing
   * recorded, a probe permit given back), not a sign that the downstream is sick.
   */
  private settleRejection(
    permit: number,
    start: number,
    error: unknown,
    signal: AbortSignal | undefined,
  ): void {
    if (signal !== undefined && signal.aborted) this.onCancel(permit);
    else this.settleError(permit, start, error);
  }

  /** invokePromise's ending for an untimed, non-strict call without bulkhead slot. */
  private settleUntimed(permit: number, result: unknown): Promise<unknown> {
    if (isPromiseLike(result)) {
      // trackPromise's fast branch, written out so that this stays small enough to inline.
      if (!this.fastEligible) return this.trackPromise(permit, 0, result, false, false);
      if (permit !== this.fastPermit) this.buildFastHandlers(permit);
      return Promise.resolve(result).then(this.fastOk, this.fastErr);
    }
    try {
      return Promise.resolve(this.settleValue(permit, 0, result, false));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private buildFastHandlers(permit: number): void {
    this.fastPermit = permit;
    const bulkhead = this.bulkhead;
    if (bulkhead !== undefined) {
      this.fastOk = (value) => {
        bulkhead.leave();
        return this.settleValue(permit, 0, value, false);
      };
      this.fastErr = (error) => {
        bulkhead.leave();
        this.settleError(permit, 0, error);
        throw error;
      };
      return;
    }
    // Without isResultFailure, settleValue comes down to onSuccess: call it directly (one hop per call less).
    this.fastOk =
      this.options.isResultFailure === undefined
        ? (value) => {
            this.onSuccess(permit, 0);
            return value;
          }
        : (value) => this.settleValue(permit, 0, value, false);
    this.fastErr = (error) => {
      this.settleError(permit, 0, error);
      throw error;
    };
  }

  private withTimeout(
    permit: number,
    start: number,
    result: PromiseLike<unknown>,
    strict: boolean,
    slot: boolean,
    controller: AbortController,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        if (slot) this.bulkhead?.leave();
        const error = new CallTimeoutError(this.name, timeoutMs);
        controller.abort(error);
        this.onTimeout(permit, start, error);
        reject(error);
      }, timeoutMs);
      result.then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (slot) this.bulkhead?.leave();
          try {
            resolve(this.settleValue(permit, start, value, strict));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (slot) this.bulkhead?.leave();
          this.settleRejection(permit, start, error, signal);
          reject(error);
        },
      );
    });
  }

  // ---------------------------------------------------------------- observable

  /** @internal `source`: an Observable already obtained from fn (subscribed once per subscription). */
  runObservable(
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    source?: Observable<unknown>,
    policy: CallPolicy = this,
  ): Observable<unknown> {
    const rx = loadRx();
    const strict = !policy.plain;
    let out = new rx.Observable<unknown>((subscriber) =>
      this.subscribeAttempt(subscriber, fn, thisArg, args, source, strict),
    );
    if (policy.plain) return out;
    const lkg = policy.lastKnownGood;
    if (lkg !== undefined) out = out.pipe(rx.tap((value) => lkg.store(args, value)));
    const retry = this.options.retry;
    if (retry !== undefined && retry.maxAttempts > 1) {
      out = out.pipe(
        rx.retry({
          count: retry.maxAttempts - 1,
          delay: (error: unknown, retryCount: number) => {
            if (!this.shouldRetry(error)) throw error;
            const ms = retryDelay(retry.backoff, retryCount, this.random);
            // An open circuit refuses the next attempt at once: resubscribe without waiting.
            if (this.rejectsFor(ms)) return rx.of(undefined);
            return new rx.Observable<void>((s) => {
              const controller = new AbortController();
              const outer = this.waitSignal(args);
              const signal =
                outer === undefined ? controller.signal : AbortSignal.any([controller.signal, outer]);
              sleep(this.clock, ms, signal).then(
                () => {
                  s.next();
                  s.complete();
                },
                (reason: unknown) => s.error(reason),
              );
              return () => controller.abort();
            });
          },
        }),
      );
    }
    return out.pipe(
      rx.catchError((error: unknown) => {
        const served = this.applyFallback(args, error, thisArg, policy);
        if (served !== NOT_SERVED) return toObservable(served);
        if (error instanceof ResultFailureError && error.breakerName === this.name)
          return rx.of(error.result);
        return rx.throwError(() => error);
      }),
    );
  }

  private subscribeAttempt(
    subscriber: Subscriber<unknown>,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    source: Observable<unknown> | undefined,
    strict: boolean,
  ): TeardownLogic {
    const permit = this.acquire();
    if (permit === REJECTED) {
      if (this.askFleet) return this.subscribeFleetProbe(subscriber, fn, thisArg, args, source, strict);
      subscriber.error(this.reject());
      return;
    }
    return this.subscribeGranted(subscriber, permit, fn, thisArg, args, source, strict);
  }

  /** Waits (bounded by the store's timeout) for the fleet to admit a half-open probe, then subscribes. */
  private subscribeFleetProbe(
    subscriber: Subscriber<unknown>,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    source: Observable<unknown> | undefined,
    strict: boolean,
  ): TeardownLogic {
    let cancelled = false;
    let teardown: TeardownLogic;
    this.fleetProbe().then((permit) => {
      if (cancelled) {
        if (permit !== REJECTED) this.onCancel(permit);
        return;
      }
      teardown = this.subscribeGranted(subscriber, permit, fn, thisArg, args, source, strict);
    });
    return () => {
      cancelled = true;
      if (typeof teardown === 'function') teardown();
      else if (teardown !== undefined && teardown !== null && 'unsubscribe' in teardown)
        teardown.unsubscribe();
    };
  }

  private subscribeGranted(
    subscriber: Subscriber<unknown>,
    permit: number,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    source: Observable<unknown> | undefined,
    strict: boolean,
  ): TeardownLogic {
    if (permit === REJECTED) {
      subscriber.error(this.reject());
      return;
    }
    const bulkhead = this.bulkhead;
    if (bulkhead === undefined)
      return this.startObservable(subscriber, permit, fn, thisArg, args, source, strict, false);
    if (bulkhead.tryEnter())
      return this.startObservable(subscriber, permit, fn, thisArg, args, source, strict, true);
    if (!bulkhead.hasQueueRoom) {
      const full = bulkhead.full();
      this.release(permit, full);
      subscriber.error(full);
      return;
    }
    // Queued: the subscription may end while waiting; the slot, if handed over late, is given back.
    const controller = new AbortController();
    const outer = this.waitSignal(args);
    let teardown: TeardownLogic;
    let cancelled = false;
    bulkhead.wait(outer === undefined ? controller.signal : AbortSignal.any([controller.signal, outer])).then(
      () => {
        if (cancelled) {
          bulkhead.leave();
          return;
        }
        teardown = this.startObservable(subscriber, permit, fn, thisArg, args, source, strict, true);
      },
      (error: unknown) => {
        if (error instanceof BulkheadFullError) this.release(permit, error);
        else this.onCancel(permit);
        if (!cancelled) subscriber.error(error);
      },
    );
    return () => {
      cancelled = true;
      controller.abort();
      if (typeof teardown === 'function') teardown();
      else if (teardown !== undefined && teardown !== null && 'unsubscribe' in teardown)
        teardown.unsubscribe();
    };
  }

  private startObservable(
    subscriber: Subscriber<unknown>,
    permit: number,
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    source: Observable<unknown> | undefined,
    strict: boolean,
    slot: boolean,
  ): TeardownLogic {
    const rx = loadRx();
    const start = this.readsStart ? this.clock.now() : 0;
    const timeoutMs = this.options.callTimeoutMs;
    const controller = timeoutMs === undefined ? undefined : new AbortController();
    let done = false;
    let failedValue: { value: unknown } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      if (slot) this.bulkhead?.leave();
    };
    let inner: Observable<unknown>;
    if (source !== undefined) {
      inner = source;
    } else {
      let result: unknown;
      try {
        result =
          controller === undefined
            ? (fn as Call).apply(thisArg, args)
            : this.callWithSignal(controller, fn, thisArg, args);
      } catch (error) {
        finish();
        this.settleError(permit, start, error);
        subscriber.error(error);
        return;
      }
      inner = isObservableLike(result) ? result : isPromiseLike(result) ? rx.from(result) : rx.of(result);
    }
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (done) return;
        finish();
        const error = new CallTimeoutError(this.name, timeoutMs);
        controller?.abort(error);
        this.onTimeout(permit, start, error);
        subscription?.unsubscribe();
        subscriber.error(error);
      }, timeoutMs);
    }
    let subscription: { unsubscribe(): void } | undefined;
    subscription = inner.subscribe({
      next: (value) => {
        if (done) return;
        if (
          failedValue === undefined &&
          this.options.isResultFailure !== undefined &&
          this.judgeResult(value)
        ) {
          failedValue = { value };
          if (strict) {
            // Retry and fallback need the failure now; the value is handed back by the outermost layer if neither applies.
            finish();
            this.onFailure(permit, start, new ResultFailureError(this.name, value));
            subscription?.unsubscribe();
            subscriber.error(new ResultFailureError(this.name, value));
            return;
          }
        }
        subscriber.next(value);
      },
      error: (error: unknown) => {
        if (done) return;
        finish();
        this.settleError(permit, start, error);
        subscriber.error(error);
      },
      complete: () => {
        if (done) return;
        finish();
        if (failedValue !== undefined)
          this.onFailure(permit, start, new ResultFailureError(this.name, failedValue.value));
        else this.onSuccess(permit, start);
        subscriber.complete();
      },
    });
    if (done) subscription.unsubscribe();
    return () => {
      if (!done) {
        finish();
        this.onCancel(permit);
      }
      subscription?.unsubscribe();
      subscription = undefined;
    };
  }

  // ---------------------------------------------------------------- outcomes and policies

  /** Records a settled value; returns it, or throws ResultFailureError when `strict` and the value failed. */
  private settleValue(permit: number, start: number, value: unknown, strict: boolean): unknown {
    if (this.isFailedResult(permit, start, value)) {
      if (strict) throw new ResultFailureError(this.name, value);
      return value;
    }
    this.onSuccess(permit, start);
    return value;
  }

  /** Records a value judged by isResultFailure; returns true when it was recorded as a failure. */
  private isFailedResult(permit: number, start: number, value: unknown): boolean {
    if (this.options.isResultFailure === undefined) return false;
    let failed: boolean;
    try {
      failed = this.judgeResult(value);
    } catch (error) {
      this.onFailure(permit, start, error);
      throw error;
    }
    if (failed) this.onFailure(permit, start, new ResultFailureError(this.name, value));
    return failed;
  }

  private judgeResult(value: unknown): boolean {
    return (this.options.isResultFailure as (v: unknown) => boolean)(value) === true;
  }

  /** Records an error as failure or ignored; returns true when it counted as a failure. */
  private settleError(permit: number, start: number, error: unknown): boolean {
    if (this.isRecorded(error)) {
      this.onFailure(permit, start, error);
      return true;
    }
    this.onIgnored(permit, error);
    return false;
  }

  /** The classification: ignoreErrors wins over recordErrors; recordErrors (when set) limits; isFailure decides last. */
  isRecorded(error: unknown): boolean {
    const o = this.options;
    // Both are the breaker's own verdicts (a timeout, a value reported as failed), not errors to classify.
    if (error instanceof CallTimeoutError || error instanceof ResultFailureError) return true;
    if (o.ignoreErrors !== undefined && matches(error, o.ignoreErrors)) return false;
    if (o.recordErrors !== undefined && !matches(error, o.recordErrors)) return false;
    if (o.isFailure === undefined) return true;
    try {
      return o.isFailure(error) !== false;
    } catch {
      // A throwing predicate must not turn a downstream error into a crash of the breaker: count it.
      return true;
    }
  }

  private shouldRetry(error: unknown): boolean {
    if (error instanceof CircuitOpenError) return false;
    const retryOn = this.options.retry?.retryOn;
    if (retryOn !== undefined) return retryOn(error) === true;
    if (error instanceof BulkheadFullError) return false;
    return error instanceof ResultFailureError || this.isRecorded(error);
  }

  /** Serves the fallback for `error` when one applies, or returns NOT_SERVED. */
  private applyFallback(args: unknown[], error: unknown, thisArg: unknown, policy: CallPolicy): unknown {
    const fallback = policy.fallback;
    if (fallback === undefined) return NOT_SERVED;
    const applies =
      error instanceof CircuitOpenError ||
      error instanceof BulkheadFullError ||
      error instanceof ResultFailureError ||
      this.isRecorded(error);
    if (!applies) return NOT_SERVED;
    let value: unknown;
    if (typeof fallback === 'function') {
      this.countFallback(error);
      return (fallback as Call).apply(thisArg, [...args, error]);
    }
    if ('value' in fallback) value = fallback.value;
    else {
      const hit = (policy.lastKnownGood as LastKnownGood).lookup(args);
      if (!hit.found) return NOT_SERVED;
      value = hit.value;
    }
    this.countFallback(error);
    return value;
  }

  private countFallback(error: unknown): void {
    this.fallbacks++;
    this.note('fallback', error, undefined);
  }

  /** The signal that ends waits (retry backoff, bulkhead queue): the caller's, and the breaker's disposal. */
  private waitSignal(args: unknown[]): AbortSignal {
    const outer = callerSignal(args);
    return outer === undefined ? this.closing.signal : AbortSignal.any([this.closing.signal, outer]);
  }
}

const NOT_SERVED = Symbol('not served');

function matches(error: unknown, classes: readonly (abstract new (...args: never[]) => unknown)[]): boolean {
  for (const c of classes) if (error instanceof c) return true;
  return false;
}

function toObservable(value: unknown): Observable<unknown> {
  const rx = loadRx();
  if (isObservableLike(value)) return value;
  if (isPromiseLike(value)) return rx.from(value);
  return rx.of(value);
}

let sharedDefaults: ResolvedOptions | undefined;

/**
 * Creates a standalone breaker (no registry).
 *
 * @example
 * const clock = new ManualClock();
 * const b = createBreaker('inventory', { failureThreshold: 3 }, { clock });
 */
export function createBreaker(name: string, options?: BreakerOptions, deps: BreakerDeps = {}): Breaker {
  // Breakers without options share one resolved (frozen) default: nothing in a breaker writes to its options.
  const resolved =
    options === undefined
      ? (sharedDefaults ??= Object.freeze(resolveOptions(name)))
      : resolveOptions(name, options);
  return new Breaker(name, resolved, deps.clock ?? systemClock, deps.random ?? Math.random);
}
