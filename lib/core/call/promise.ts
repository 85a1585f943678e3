import { callerSignal } from '../call-signal';
import { REJECTED } from '../circuit-state';
import { BulkheadFullError, CallTimeoutError } from '../errors';
import { isPromiseLike } from '../rx';
import type { AnyFn, Call, CallEngine, CallPolicy } from './engine';
import { fallbackOrThrow } from './fallback';
import {
  callWithSignal,
  isRetryable,
  recordedError,
  settledPromise,
  settleError,
  settleRejection,
  settleValue,
} from './outcome';
import { retryDelay, sleep } from './retry';

// One attempt of a Promise call, from the inside of retry outwards: breaker → bulkhead → timeout → fn.
// `strict`: retry or a fallback is waiting for the outcome, so a value isResultFailure rejects becomes a
// ResultFailureError rejection (the outermost layer hands the value back when neither applies).

/** One attempt: asks for a permit (a half-open probe may wait for the fleet's answer), then runs. */
export function attemptPromise(
  breaker: CallEngine,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  strict: boolean,
): Promise<unknown> {
  const permit = breaker.acquire();
  if (permit === REJECTED) {
    if (breaker.awaitsFleet) {
      return breaker
        .fleetProbe()
        .then((granted) => attemptGranted(breaker, granted, fn, thisArg, args, strict));
    }
    return Promise.reject(breaker.reject());
  }
  return attemptGranted(breaker, permit, fn, thisArg, args, strict);
}

/** The rest of an attempt once the breaker answered (REJECTED included): the bulkhead, then the call. */
function attemptGranted(
  breaker: CallEngine,
  permit: number,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  strict: boolean,
): Promise<unknown> {
  if (permit === REJECTED) return Promise.reject(breaker.reject());
  const bulkhead = breaker.bulkhead;
  if (bulkhead === undefined) return invokePromise(breaker, permit, fn, thisArg, args, strict, false);
  if (bulkhead.tryEnter()) return invokePromise(breaker, permit, fn, thisArg, args, strict, true);
  if (!bulkhead.hasQueueRoom) {
    const full = bulkhead.full();
    breaker.release(permit, full);
    return Promise.reject(full);
  }
  const wait = breaker.waitSignal(args);
  return bulkhead.wait(wait.signal).then(
    () => {
      wait.unlink();
      // The circuit may have opened while this call waited: it asks again, and a refusal passes the slot on.
      const admitted = breaker.readmit(permit);
      if (admitted === REJECTED) {
        bulkhead.leave();
        throw breaker.reject();
      }
      return invokePromise(breaker, admitted, fn, thisArg, args, strict, true);
    },
    (error: unknown) => {
      wait.unlink();
      // A queue timeout is the bulkhead's verdict; an abort (the caller's signal, disposal) is a cancellation.
      if (error instanceof BulkheadFullError) breaker.release(permit, error);
      else breaker.onCancel(permit);
      throw error;
    },
  );
}

/** Runs fn holding `permit` (and a bulkhead slot when `slot`), and settles both once. */
export function invokePromise(
  breaker: CallEngine,
  permit: number,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  strict: boolean,
  slot: boolean,
): Promise<unknown> {
  const start = breaker.readsStart ? breaker.clock.now() : 0;
  // Written out rather than through invoke(): this is the CLOSED path of runPromise, and each call level
  // less keeps it within what V8 inlines.
  let controller: AbortController | undefined;
  let result: unknown;
  try {
    if (breaker.options.callTimeoutMs === undefined) result = (fn as Call).apply(thisArg, args);
    else {
      controller = new AbortController();
      result = callWithSignal(controller, fn, thisArg, args);
    }
  } catch (error) {
    if (slot) breaker.bulkhead?.leave();
    return Promise.reject(recordedError(breaker, permit, start, error));
  }
  if (!isPromiseLike(result)) {
    if (slot) breaker.bulkhead?.leave();
    return settledPromise(breaker, permit, start, result, strict);
  }
  return controller === undefined
    ? trackPromise(breaker, permit, start, result, strict, slot, callerSignal(args))
    : raceTimeout(breaker, permit, start, result, strict, slot, controller, callerSignal(args));
}

/**
 * The result of a timed call against callTimeoutMs: whichever settles first settles the permit (and the
 * slot); the loser is ignored. `signal`: the caller's, whose abort makes a rejection a cancellation.
 */
export function raceTimeout(
  breaker: CallEngine,
  permit: number,
  start: number,
  result: PromiseLike<unknown>,
  strict: boolean,
  slot: boolean,
  controller: AbortController,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const timeoutMs = breaker.options.callTimeoutMs as number;
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      if (slot) breaker.bulkhead?.leave();
      const error = new CallTimeoutError(breaker.name, timeoutMs);
      // The function may still be running: its breakerSignal() tells it to stop.
      controller.abort(error);
      breaker.onTimeout(permit, start, error);
      reject(error);
    }, timeoutMs);
    result.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (slot) breaker.bulkhead?.leave();
        try {
          resolve(settleValue(breaker, permit, start, value, strict));
        } catch (error) {
          reject(error);
        }
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (slot) breaker.bulkhead?.leave();
        try {
          settleRejection(breaker, permit, start, error, signal);
          reject(error);
        } catch (callbackError) {
          reject(callbackError);
        }
      },
    );
  });
}

/**
 * The policies around Promise attempts, outermost first: fallback → retry. A success is stored for
 * last-known-good. `first`: the first attempt, when the caller has already started it.
 */
export async function promiseWithPolicy(
  breaker: CallEngine,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  policy: CallPolicy,
  first?: Promise<unknown>,
): Promise<unknown> {
  const retry = breaker.options.retry;
  let error: unknown;
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) breaker.countRetry();
    try {
      const value = await (attempt === 1 && first !== undefined
        ? first
        : attemptPromise(breaker, fn, thisArg, args, true));
      policy.lastKnownGood?.store(args, value);
      return value;
    } catch (e) {
      error = e;
    }
    // The caller gave up: neither another attempt nor a fallback is of use to it.
    if (callerSignal(args)?.aborted === true) throw error;
    if (
      retry === undefined ||
      attempt >= retry.maxAttempts ||
      !isRetryable(breaker.name, breaker.options, error)
    )
      break;
    const delay = retryDelay(retry.backoff, attempt, breaker.random);
    // When the circuit stays open past the backoff, the next attempt is refused at once: don't wait for it.
    if (breaker.rejectsFor(delay)) continue;
    // An abort (caller signal or disposal) ends the call with the abort's reason: no fallback for it.
    const wait = breaker.waitSignal(args);
    try {
      await sleep(breaker.clock, delay, wait.signal);
    } finally {
      wait.unlink();
    }
  }
  return fallbackOrThrow(breaker, args, error, thisArg, policy);
}

/**
 * promiseWithPolicy for a call whose first attempt already holds a CLOSED permit (untimed, no bulkhead).
 * A success needs nothing from retry or a fallback, so it settles through the breaker's cached handler:
 * no async frame and no extra promise per call. Only a failure (or a value to judge or cache) enters
 * promiseWithPolicy, as its already-started attempt.
 */
export function promiseWithPolicyClosed(
  breaker: CallEngine,
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
    const seen = recordedError(breaker, permit, 0, error);
    return promiseWithPolicy(breaker, fn, thisArg, args, policy, Promise.reject(seen));
  }
  if (
    isPromiseLike(result) &&
    policy.lastKnownGood === undefined &&
    breaker.options.isResultFailure === undefined
  ) {
    return Promise.resolve(result).then(successHandler(breaker, permit), (error: unknown) => {
      settleRejection(breaker, permit, 0, error, callerSignal(args));
      return promiseWithPolicy(breaker, fn, thisArg, args, policy, Promise.reject(error));
    });
  }
  // invokePromise's ending for a strict attempt.
  const first = isPromiseLike(result)
    ? trackPromise(breaker, permit, 0, result, true, false, callerSignal(args))
    : settledPromise(breaker, permit, 0, result, true);
  return promiseWithPolicy(breaker, fn, thisArg, args, policy, first);
}

// How a started call's Promise settles its permit (and bulkhead slot). The common case (not strict, no
// timing, no timeout, no caller signal) settles through two handlers cached on the breaker: built once
// per state generation, since they close over the permit, instead of two closures per call.

/**
 * Settles the permit (and the slot, when `slot`) when `result` settles. `signal`: the caller's, whose
 * abort makes a rejection a cancellation.
 */
export function trackPromise(
  breaker: CallEngine,
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
    slot === (breaker.bulkhead !== undefined) &&
    !breaker.readsStart &&
    breaker.options.callTimeoutMs === undefined
  ) {
    if (permit !== breaker.fastPermit) buildFastHandlers(breaker, permit);
    return Promise.resolve(result).then(breaker.fastOk, breaker.fastErr);
  }
  return Promise.resolve(result).then(
    (value) => {
      if (slot) breaker.bulkhead?.leave();
      return settleValue(breaker, permit, start, value, strict);
    },
    (error: unknown) => {
      if (slot) breaker.bulkhead?.leave();
      settleRejection(breaker, permit, start, error, signal);
      throw error;
    },
  );
}

/** The cached success handler for `permit`: an untimed call without slot, whose value is not judged. */
export function successHandler(breaker: CallEngine, permit: number): (value: unknown) => unknown {
  if (permit !== breaker.fastPermit) buildFastHandlers(breaker, permit);
  return breaker.fastOk;
}

/** Replaces the cached handlers with ones for `permit`'s generation. */
export function buildFastHandlers(breaker: CallEngine, permit: number): void {
  breaker.fastPermit = permit;
  const bulkhead = breaker.bulkhead;
  if (bulkhead !== undefined) {
    breaker.fastOk = (value) => {
      bulkhead.leave();
      return settleValue(breaker, permit, 0, value, false);
    };
    breaker.fastErr = (error) => {
      bulkhead.leave();
      settleError(breaker, permit, 0, error);
      throw error;
    };
    return;
  }
  // Without isResultFailure, settleValue comes down to onSuccess: call it directly (one hop per call less).
  breaker.fastOk =
    breaker.options.isResultFailure === undefined
      ? (value) => {
          breaker.onSuccess(permit, 0);
          return value;
        }
      : (value) => settleValue(breaker, permit, 0, value, false);
  breaker.fastErr = (error) => {
    settleError(breaker, permit, 0, error);
    throw error;
  };
}
