import type { Observable, Subscriber, TeardownLogic } from 'rxjs';
import { REJECTED } from '../circuit-state';
import { BreakerCallbackError, BulkheadFullError, CallTimeoutError, ResultFailureError } from '../errors';
import { isObservableLike, isPromiseLike, loadRx } from '../rx';
import type { AnyFn, CallEngine, CallPolicy } from './engine';
import { applyFallback, NOT_SERVED } from './fallback';
import { invoke, isRetryable, recordedError } from './outcome';
import { retryDelay, sleep } from './retry';

// One subscription of a breaker-protected Observable is one attempt: breaker → bulkhead → timeout → fn,
// each step per subscription (the Observable is cold). `source`: an Observable already obtained from fn,
// subscribed in place of calling fn again. `strict`: as for Promises, retry or a fallback is waiting for
// the outcome, so a value isResultFailure rejects ends the subscription with a ResultFailureError.

/** Asks for a permit (a half-open probe may wait for the fleet's answer), then subscribes. */
export function subscribeAttempt(
  breaker: CallEngine,
  subscriber: Subscriber<unknown>,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  source: Observable<unknown> | undefined,
  strict: boolean,
): TeardownLogic {
  const permit = breaker.acquire();
  if (permit === REJECTED) {
    if (breaker.awaitsFleet)
      return subscribeFleetProbe(breaker, subscriber, fn, thisArg, args, source, strict);
    subscriber.error(breaker.reject());
    return;
  }
  return subscribeGranted(breaker, subscriber, permit, fn, thisArg, args, source, strict);
}

/** Waits (bounded by the store's timeout) for the fleet to admit a half-open probe, then subscribes. */
function subscribeFleetProbe(
  breaker: CallEngine,
  subscriber: Subscriber<unknown>,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  source: Observable<unknown> | undefined,
  strict: boolean,
): TeardownLogic {
  let cancelled = false;
  let teardown: TeardownLogic;
  breaker.fleetProbe().then((permit) => {
    if (cancelled) {
      if (permit !== REJECTED) breaker.onCancel(permit);
      return;
    }
    teardown = subscribeGranted(breaker, subscriber, permit, fn, thisArg, args, source, strict);
  });
  return () => {
    cancelled = true;
    runTeardown(teardown);
  };
}

/** The rest of a subscription once the breaker answered (REJECTED included): the bulkhead, then fn. */
function subscribeGranted(
  breaker: CallEngine,
  subscriber: Subscriber<unknown>,
  permit: number,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  source: Observable<unknown> | undefined,
  strict: boolean,
): TeardownLogic {
  if (permit === REJECTED) {
    subscriber.error(breaker.reject());
    return;
  }
  const bulkhead = breaker.bulkhead;
  if (bulkhead === undefined)
    return startAttempt(breaker, subscriber, permit, fn, thisArg, args, source, strict, false);
  if (bulkhead.tryEnter())
    return startAttempt(breaker, subscriber, permit, fn, thisArg, args, source, strict, true);
  if (!bulkhead.hasQueueRoom) {
    const full = bulkhead.full();
    breaker.release(permit, full);
    subscriber.error(full);
    return;
  }
  // Queued: the subscription may end while waiting; the slot, if handed over late, is given back.
  const controller = new AbortController();
  const wait = breaker.waitSignal(args, controller.signal);
  let teardown: TeardownLogic;
  let cancelled = false;
  bulkhead.wait(wait.signal).then(
    () => {
      wait.unlink();
      if (cancelled) {
        bulkhead.leave();
        return;
      }
      // The circuit may have opened while this call waited: it asks again, and a refusal passes the slot on.
      const admitted = breaker.readmit(permit);
      if (admitted === REJECTED) {
        bulkhead.leave();
        subscriber.error(breaker.reject());
        return;
      }
      teardown = startAttempt(breaker, subscriber, admitted, fn, thisArg, args, source, strict, true);
    },
    (error: unknown) => {
      wait.unlink();
      if (error instanceof BulkheadFullError) breaker.release(permit, error);
      else breaker.onCancel(permit);
      if (!cancelled) subscriber.error(error);
    },
  );
  return () => {
    cancelled = true;
    controller.abort();
    runTeardown(teardown);
  };
}

/** Calls fn (or takes `source`) holding `permit` (and a slot when `slot`) and settles both once. */
function startAttempt(
  breaker: CallEngine,
  subscriber: Subscriber<unknown>,
  permit: number,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  source: Observable<unknown> | undefined,
  strict: boolean,
  slot: boolean,
): TeardownLogic {
  const start = breaker.readsStart ? breaker.clock.now() : 0;
  const timeoutMs = breaker.options.callTimeoutMs;
  const controller = timeoutMs === undefined ? undefined : new AbortController();
  let done = false;
  let failedValue: { value: unknown } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finish = () => {
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    if (slot) breaker.bulkhead?.leave();
  };
  let inner: Observable<unknown>;
  if (source !== undefined) {
    inner = source;
  } else {
    let result: unknown;
    try {
      result = invoke(controller, fn, thisArg, args);
    } catch (error) {
      finish();
      subscriber.error(recordedError(breaker, permit, start, error));
      return;
    }
    inner = toObservable(result);
  }
  let subscription: { unsubscribe(): void } | undefined;
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      if (done) return;
      finish();
      const error = new CallTimeoutError(breaker.name, timeoutMs);
      controller?.abort(error);
      breaker.onTimeout(permit, start, error);
      subscription?.unsubscribe();
      subscriber.error(error);
    }, timeoutMs);
  }
  subscription = inner.subscribe({
    next: (value) => {
      if (done) return;
      // A stream is judged by its first failed value; the outcome is recorded when it ends.
      if (failedValue === undefined && breaker.options.isResultFailure !== undefined) {
        let failed: boolean;
        try {
          failed = isResultFailureOf(breaker, value);
        } catch (thrown) {
          // A broken predicate ends the call now: recorded as a failure, the caller told, never a crash.
          finish();
          const error = new BreakerCallbackError(breaker.name, 'isResultFailure', thrown, value);
          breaker.onFailure(permit, start, error);
          subscription?.unsubscribe();
          subscriber.error(error);
          return;
        }
        if (!failed) {
          subscriber.next(value);
          return;
        }
        failedValue = { value };
        if (strict) {
          // Retry and fallback need the failure now; the value is handed back by the outermost layer if neither applies.
          finish();
          breaker.onFailure(permit, start, new ResultFailureError(breaker.name, value));
          subscription?.unsubscribe();
          subscriber.error(new ResultFailureError(breaker.name, value));
          return;
        }
      }
      subscriber.next(value);
    },
    error: (error: unknown) => {
      if (done) return;
      finish();
      subscriber.error(recordedError(breaker, permit, start, error));
    },
    complete: () => {
      if (done) return;
      finish();
      if (failedValue !== undefined)
        breaker.onFailure(permit, start, new ResultFailureError(breaker.name, failedValue.value));
      else breaker.onSuccess(permit, start);
      subscriber.complete();
    },
  });
  // Settled while subscribing (a synchronous source, or a strict failure): nothing more to receive.
  if (done) subscription.unsubscribe();
  return () => {
    // Unsubscribed before an outcome: the caller abandoned the call, a cancellation.
    if (!done) {
      finish();
      breaker.onCancel(permit);
    }
    subscription?.unsubscribe();
    subscription = undefined;
  };
}

/** A function's result (or a fallback's) as an Observable: a Promise or a plain value becomes one. */
export function toObservable(value: unknown): Observable<unknown> {
  const rx = loadRx();
  if (isObservableLike(value)) return value;
  if (isPromiseLike(value)) return rx.from(value);
  return rx.of(value);
}

/** Ends what a later-started subscription left behind: rxjs allows either form of teardown. */
function runTeardown(teardown: TeardownLogic): void {
  if (typeof teardown === 'function') teardown();
  else if (teardown !== undefined && teardown !== null && 'unsubscribe' in teardown) teardown.unsubscribe();
}

/** isResultFailure's verdict on one emitted value (the option is set); may throw what the predicate throws. */
function isResultFailureOf(breaker: CallEngine, value: unknown): boolean {
  return (breaker.options.isResultFailure as (v: unknown) => boolean)(value) === true;
}

/**
 * A cold Observable of `fn(...args)` through the breaker, one attempt per subscription, with the
 * policies outermost first: fallback → retry (a resubscription) → last-known-good caching of values.
 * `source`: an Observable already obtained from fn (subscribed once per subscription).
 */
export function observableWithPolicy(
  breaker: CallEngine,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  source: Observable<unknown> | undefined,
  policy: CallPolicy,
): Observable<unknown> {
  const rx = loadRx();
  const strict = !policy.plain;
  let out = new rx.Observable<unknown>((subscriber) =>
    subscribeAttempt(breaker, subscriber, fn, thisArg, args, source, strict),
  );
  if (policy.plain) return out;
  const lkg = policy.lastKnownGood;
  if (lkg !== undefined) out = out.pipe(rx.tap((value) => lkg.store(args, value)));
  const retry = breaker.options.retry;
  if (retry !== undefined && retry.maxAttempts > 1) {
    out = out.pipe(
      rx.retry({
        count: retry.maxAttempts - 1,
        delay: (error: unknown, retryCount: number) => {
          if (!isRetryable(breaker.name, breaker.options, error)) throw error;
          const ms = retryDelay(retry.backoff, retryCount, breaker.random);
          // An open circuit refuses the next attempt at once: resubscribe without waiting.
          const wait = breaker.rejectsFor(ms) ? rx.of(undefined) : backoff(breaker, ms, args);
          // Counted when the wait ends and the attempt really starts (not when the backoff is cut short).
          return wait.pipe(rx.tap(() => breaker.countRetry()));
        },
      }),
    );
  }
  return out.pipe(
    rx.catchError((error: unknown) => {
      const served = applyFallback(breaker, args, error, thisArg, policy);
      if (served !== NOT_SERVED) return toObservable(served);
      // A value judged a failure is still the caller's value when no fallback replaces it.
      if (error instanceof ResultFailureError && error.breakerName === breaker.name)
        return rx.of(error.result);
      return rx.throwError(() => error);
    }),
  );
}

/** Emits once after `ms`; an unsubscription, the caller's signal or disposal ends the wait early. */
function backoff(breaker: CallEngine, ms: number, args: unknown[]): Observable<void> {
  const rx = loadRx();
  return new rx.Observable<void>((s) => {
    const controller = new AbortController();
    const wait = breaker.waitSignal(args, controller.signal);
    sleep(breaker.clock, ms, wait.signal).then(
      () => {
        wait.unlink();
        s.next();
        s.complete();
      },
      (reason: unknown) => {
        wait.unlink();
        s.error(reason);
      },
    );
    return () => controller.abort();
  });
}
