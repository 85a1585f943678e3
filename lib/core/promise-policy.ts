import { recordedError, settledPromise, settleRejection } from './call-outcome';
import { fallbackOrThrow } from './call-policy';
import { callerSignal } from './call-signal';
import { isRetryable } from './error-classification';
import { attemptPromise } from './promise-attempt';
import { successHandler, trackPromise } from './promise-settlement';
import { retryDelay } from './retry-delay';
import { isPromiseLike } from './rx';
import { sleep } from './sleep';
import type { AnyFn, Call, CallEngine, CallPolicy } from './call-engine';

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
