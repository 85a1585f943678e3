import { setMaxListeners } from 'node:events';
import type { Observable } from 'rxjs';
import { Bulkhead } from './bulkhead';
import type { AnyFn, CallPolicy, Shape, ShapeMemory } from './call/engine';
import { createCallPolicy } from './call/fallback';
import { observableWithPolicy } from './call/observable';
import { recordedError, settledPromise } from './call/outcome';
import {
  attemptPromise,
  buildFastHandlers,
  invokePromise,
  promiseWithPolicy,
  promiseWithPolicyClosed,
} from './call/promise';
import { discoverShape } from './call/shape';
import { callSync } from './call/sync';
import { callerSignal, linkSignals, type LinkedSignal } from './call-signal';
import { checkedClock, systemClock, type Clock } from './clock';
import { BreakerConfigError } from './errors';
import type { LastKnownGood } from './last-known-good';
import { describeValue, resolveOptions, type ResolvedOptions } from './options';
import { isPromiseLike } from './rx';
import { BreakerStateMachine, REJECTED } from './state-machine';
import type { BreakerEvent, BreakerOptions, FallbackOption } from './types';

export type { CallPolicy, Shape, ShapeMemory } from './call/engine';

const AsyncFunction = async function () {}.constructor;

// The fast handlers' placeholders until a first call builds the real ones (shared: nothing per breaker).
const passValue = (value: unknown): unknown => value;
const passError = (error: unknown): never => {
  throw error;
};

export interface BreakerDeps {
  clock?: Clock;
  /** Randomness for jitter (halfOpenBackoff, retry) and the adaptive throttle's draws. Default Math.random. */
  random?: () => number;
}

/**
 * One circuit breaker: the state machine plus the policies around it, applied in this order (outermost
 * first): fallback → retry → breaker → bulkhead → timeout → fn.
 *
 * The class holds the public API and the CLOSED fast paths (kept here, small, so that V8 inlines them
 * into the caller); each call shape has one file under call/, as functions of the breaker: Promise calls
 * (call/promise.ts), Observables (call/observable.ts), synchronous calls (call/sync.ts) and shape
 * discovery for execute() (call/shape.ts); call/outcome.ts records what a call did, call/fallback.ts
 * serves fallbacks.
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
  /** @internal The breaker's own last-known-good cache. A decorated method may bring its own policy (`callPolicy`). */
  readonly lastKnownGood: LastKnownGood | undefined;
  /** @internal */
  readonly bulkhead: Bulkhead | undefined;
  /**
   * Aborted by dispose(); created on first need (only retry waits and bulkhead queues listen to it).
   * `null`: disposed before anything waited (evicted keys are many): made already aborted if ever asked for.
   */
  private closingController: AbortController | undefined | null;
  /** @internal The permit whose generation `fastOk` and `fastErr` settle (see call/promise.ts). */
  fastPermit = -1;
  /** @internal */
  fastOk: (value: unknown) => unknown = passValue;
  /** @internal */
  fastErr: (error: unknown) => never = passError;
  // CLOSED calls may take the fast paths: no timing, no timeout, no bulkhead, no throttle.
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
    // Set here (not only on first use) so every breaker keeps one hidden class.
    this.closingController = undefined;
    this.updateTiming();
  }

  protected override updateTiming(): void {
    super.updateTiming();
    this.fastEligible =
      !this.readsStart &&
      this.options.callTimeoutMs === undefined &&
      this.bulkhead === undefined &&
      this.throttle === undefined;
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
          return Promise.reject(recordedError(this, permit, 0, error));
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
    return observableWithPolicy(this, fn as AnyFn, undefined, args, undefined, this) as Observable<T>;
  }

  /** Never async: a rejection is a synchronous throw. (Retry does not apply: it cannot wait.) */
  executeSync<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T {
    return callSync(this, fn as AnyFn, undefined, args) as T;
  }

  /** Rejects queued bulkhead callers and stops retry waits. Called when the owning registry closes. */
  dispose(): void {
    if (this.closingController === undefined && this.bulkhead === undefined) {
      this.closingController = null;
      return;
    }
    if (this.closingController === null) return;
    const error = new Error(`circuit breaker "${this.name}" was disposed`);
    const closing = this.closing;
    if (!closing.signal.aborted) closing.abort(error);
    this.bulkhead?.rejectAll(error);
  }

  /** @internal Set when `acquire()` refused only because the fleet must admit the probe (`fleetProbe()`). */
  get awaitsFleet(): boolean {
    return this.askFleet;
  }

  /** @internal Counts a served fallback (the snapshot's `fallbacks`, a `fallback` event). */
  countFallback(error: unknown): void {
    this.fallbacks++;
    this.note('fallback', error, undefined);
  }

  /** @internal Counts an attempt the retry policy starts again (the snapshot's `retries`). */
  countRetry(): void {
    this.retries++;
  }

  /** The controller dispose() aborts. Lazy: a breaker that never waits never pays for one. */
  private get closing(): AbortController {
    let controller = this.closingController;
    if (controller === undefined || controller === null) {
      const disposed = controller === null;
      controller = this.closingController = new AbortController();
      // Every caller waiting in the bulkhead queue or a retry backoff listens on this one signal until its
      // wait ends: thousands at once is normal, not a leak, so Node's listener-count warning must not fire.
      setMaxListeners(0, controller.signal);
      if (disposed) controller.abort(new Error(`circuit breaker "${this.name}" was disposed`));
    }
    return controller;
  }

  /**
   * @internal The signal that ends a wait (retry backoff, bulkhead queue): the caller's, the breaker's
   * disposal, and `extra` when given. The waiter calls `unlink()` when its wait ends.
   */
  waitSignal(args: unknown[], extra?: AbortSignal): LinkedSignal {
    return linkSignals(this.closing.signal, callerSignal(args), extra);
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
    return createCallPolicy(this.name, this.options, this.clock, fallback);
  }

  // ---------------------------------------------------------------- entries for the decorator and the pipelines

  /**
   * @internal Runs with per-caller shape memory and `this` binding. The memory only decides the shape of
   * a rejection (and, with retry or fallback, which pipeline runs); a call that runs keeps its own shape.
   */
  run(memory: ShapeMemory, fn: AnyFn, thisArg: unknown, args: unknown[], policy: CallPolicy = this): unknown {
    if (fn instanceof AsyncFunction) return this.runPromise(fn, thisArg, args, policy);
    if (!policy.plain) {
      const shape = memory.shape;
      if (shape === 'promise') return this.runPromise(fn, thisArg, args, policy);
      if (shape === 'observable') return observableWithPolicy(this, fn, thisArg, args, undefined, policy);
      if (shape === 'sync') return callSync(this, fn, thisArg, args, memory, policy);
    }
    return discoverShape(this, memory, fn, thisArg, args, policy);
  }

  /** @internal A Promise call; CLOSED without bulkhead or timing, what attemptPromise would do minus its branches. */
  runPromise(fn: AnyFn, thisArg: unknown, args: unknown[], policy: CallPolicy = this): Promise<unknown> {
    if (this.fastEligible) {
      const permit = this.acquireClosed();
      if (permit !== REJECTED)
        return policy.plain
          ? invokePromise(this, permit, fn, thisArg, args, false, false)
          : promiseWithPolicyClosed(this, permit, fn, thisArg, args, policy);
    }
    return policy.plain
      ? attemptPromise(this, fn, thisArg, args, false)
      : promiseWithPolicy(this, fn, thisArg, args, policy);
  }

  /** @internal `source`: an Observable already obtained from fn (subscribed once per subscription). */
  runObservable(
    fn: AnyFn,
    thisArg: unknown,
    args: unknown[],
    source?: Observable<unknown>,
    policy: CallPolicy = this,
  ): Observable<unknown> {
    return observableWithPolicy(this, fn, thisArg, args, source, policy);
  }

  /** invokePromise's ending for executePromise's fast path (CLOSED, untimed, non-strict, no bulkhead). */
  private settleUntimed(permit: number, result: unknown): Promise<unknown> {
    if (isPromiseLike(result)) {
      // trackPromise's fast branch, written out so that this stays small enough to inline.
      if (permit !== this.fastPermit) buildFastHandlers(this, permit);
      return Promise.resolve(result).then(this.fastOk, this.fastErr);
    }
    return settledPromise(this, permit, 0, result, false);
  }
}

let sharedDefaults: ResolvedOptions | undefined;

/**
 * Resolved options shared by breakers created from equal plain options (finite numbers, strings, booleans
 * and plain objects of them; no function, class or fallback value, whose identity matters): a thousand
 * per-host breakers made from one literal hold one resolved copy. Nothing in a breaker writes to its
 * options. Bounded: past the limit, new option sets are resolved per breaker as before.
 */
const sharedResolved = new Map<string, ResolvedOptions>();
const SHARED_RESOLVED_LIMIT = 256;

function resolveShared(name: string, options: BreakerOptions): ResolvedOptions {
  const key = options.fallback === undefined ? plainKey(options) : undefined;
  if (key === undefined) return resolveOptions(name, options);
  let resolved = sharedResolved.get(key);
  if (resolved === undefined) {
    resolved = Object.freeze(resolveOptions(name, options));
    if (sharedResolved.size < SHARED_RESOLVED_LIMIT) sharedResolved.set(key, resolved);
  }
  return resolved;
}

/** A JSON key for a value made only of plain data, or undefined when it holds anything else. */
function plainKey(value: unknown): string | undefined {
  return isPlainData(value, 0) ? JSON.stringify(value) : undefined;
}

function isPlainData(value: unknown, depth: number): boolean {
  if (value === undefined || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object' || depth > 3) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key of Object.keys(value))
    if (!isPlainData((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

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
      : resolveShared(name, options);
  const clock = checkedClock(`breaker "${name}"`, deps.clock);
  if (deps.random !== undefined && typeof deps.random !== 'function')
    throw new BreakerConfigError(
      `breaker "${name}": random must be a function returning a number in [0, 1), got ${describeValue(deps.random)}`,
    );
  return new Breaker(name, resolved, clock, deps.random ?? Math.random);
}
