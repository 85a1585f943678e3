import { callerSignal, withCallSignal } from '../call-signal';
import {
  BreakerCallbackError,
  BulkheadFullError,
  CallTimeoutError,
  CircuitOpenError,
  ResultFailureError,
} from '../errors';
import type { ResolvedOptions } from '../options';
import type { AnyFn, Call, CallEngine } from './engine';

// How one finished call becomes one outcome of the state machine (a success, a failure, an ignored
// error or a cancellation), whichever pipeline ran it.

/**
 * Records a value; returns it, or throws ResultFailureError when `strict` (retry or a fallback needs the
 * failure) and isResultFailure judged the value a failure.
 */
export function settleValue(
  breaker: CallEngine,
  permit: number,
  start: number,
  value: unknown,
  strict: boolean,
): unknown {
  if (isFailedResult(breaker, permit, start, value)) {
    if (strict) throw new ResultFailureError(breaker.name, value);
    return value;
  }
  breaker.onSuccess(permit, start);
  return value;
}

/** settleValue for a call that returned a plain value where a Promise is due: its outcome, as a Promise. */
export function settledPromise(
  breaker: CallEngine,
  permit: number,
  start: number,
  value: unknown,
  strict: boolean,
): Promise<unknown> {
  try {
    return Promise.resolve(settleValue(breaker, permit, start, value, strict));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Judges a value by isResultFailure and records it when it failed; returns true when it was recorded as a
 * failure. A throwing predicate records the call as a failure and throws a `BreakerCallbackError` (which
 * carries the value). Without the option, records nothing.
 */
export function isFailedResult(breaker: CallEngine, permit: number, start: number, value: unknown): boolean {
  if (breaker.options.isResultFailure === undefined) return false;
  const failed = judgeResult(breaker, permit, start, value);
  if (failed) breaker.onFailure(permit, start, new ResultFailureError(breaker.name, value));
  return failed;
}

/**
 * isResultFailure's verdict; only called when the option is set. When the predicate throws, the call is
 * recorded as a failure here and the `BreakerCallbackError` is thrown.
 */
export function judgeResult(breaker: CallEngine, permit: number, start: number, value: unknown): boolean {
  try {
    return (breaker.options.isResultFailure as (v: unknown) => boolean)(value) === true;
  } catch (thrown) {
    const error = new BreakerCallbackError(breaker.name, 'isResultFailure', thrown, value);
    breaker.onFailure(permit, start, error);
    throw error;
  }
}

/**
 * Records an error as a failure or ignored; returns true when it counted as a failure. When `isFailure`
 * throws, the call is recorded as a failure and the `BreakerCallbackError` is thrown.
 */
export function settleError(breaker: CallEngine, permit: number, start: number, error: unknown): boolean {
  let recorded: boolean;
  try {
    recorded = isRecordedError(breaker.name, breaker.options, error);
  } catch (callbackError) {
    breaker.onFailure(permit, start, callbackError);
    throw callbackError;
  }
  if (recorded) {
    breaker.onFailure(permit, start, error);
    return true;
  }
  breaker.onIgnored(permit, error);
  return false;
}

/**
 * settleError for a caller that must not throw (it rejects or errors instead): records the error and
 * returns what the caller should see, the error itself or the `BreakerCallbackError` of a broken `isFailure`.
 */
export function recordedError(breaker: CallEngine, permit: number, start: number, error: unknown): unknown {
  try {
    settleError(breaker, permit, start, error);
    return error;
  } catch (callbackError) {
    return callbackError;
  }
}

/**
 * A rejected call. When the caller's own signal has aborted, the caller gave up: a cancellation (nothing
 * recorded, a probe permit given back), not a sign that the downstream is sick.
 */
export function settleRejection(
  breaker: CallEngine,
  permit: number,
  start: number,
  error: unknown,
  signal: AbortSignal | undefined,
): void {
  if (signal !== undefined && signal.aborted) breaker.onCancel(permit);
  else settleError(breaker, permit, start, error);
}

/**
 * Whether an error counts against the downstream: ignoreErrors wins over recordErrors; recordErrors
 * (when set) limits; isFailure decides last. A throwing `isFailure` is a `BreakerCallbackError` (thrown):
 * the caller records the call as a failure and hands that error on instead of the original.
 */
export function isRecordedError(breakerName: string, options: ResolvedOptions, error: unknown): boolean {
  // Both are the breaker's own verdicts (a timeout, a value reported as failed), not errors to classify.
  if (error instanceof CallTimeoutError || error instanceof ResultFailureError) return true;
  // A callback already failed on this call: it was recorded as a failure when it was thrown.
  if (error instanceof BreakerCallbackError) return true;
  if (options.ignoreErrors !== undefined && matches(error, options.ignoreErrors)) return false;
  if (options.recordErrors !== undefined && !matches(error, options.recordErrors)) return false;
  if (options.isFailure === undefined) return true;
  try {
    return options.isFailure(error) !== false;
  } catch (thrown) {
    throw new BreakerCallbackError(breakerName, 'isFailure', thrown, error);
  }
}

/**
 * Whether another attempt may help. The breaker's refusals are not the downstream failing: an open
 * circuit is never retried, a full bulkhead only when `retryOn` asks for it (more attempts add to the
 * load that filled it). A broken callback is never retried; a throwing `retryOn` stops retrying with a
 * `BreakerCallbackError` (thrown).
 */
export function isRetryable(breakerName: string, options: ResolvedOptions, error: unknown): boolean {
  if (error instanceof CircuitOpenError || error instanceof BreakerCallbackError) return false;
  const retryOn = options.retry?.retryOn;
  if (retryOn !== undefined) {
    try {
      return retryOn(error) === true;
    } catch (thrown) {
      throw new BreakerCallbackError(breakerName, 'retry.retryOn', thrown, error);
    }
  }
  if (error instanceof BulkheadFullError) return false;
  return isRecordedError(breakerName, options, error);
}

/**
 * Whether a fallback may replace the outcome: the breaker's refusals, and every recorded failure. A
 * broken callback is never masked by a fallback.
 */
export function isFallbackCase(breakerName: string, options: ResolvedOptions, error: unknown): boolean {
  if (error instanceof BreakerCallbackError) return false;
  if (error instanceof CircuitOpenError || error instanceof BulkheadFullError) return true;
  try {
    return isRecordedError(breakerName, options, error);
  } catch {
    // isFailure judged this error once already when the call was recorded; a second opinion that throws
    // must not serve a fallback for it.
    return false;
  }
}

function matches(error: unknown, classes: readonly (abstract new (...args: never[]) => unknown)[]): boolean {
  for (const c of classes) if (error instanceof c) return true;
  return false;
}

/**
 * Calls `fn` with its `this` and arguments. Under a timeout (`controller` set) the function sees the
 * call's AbortSignal through `breakerSignal()`, so that a timed-out call can stop its work.
 */
export function invoke(
  controller: AbortController | undefined,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
): unknown {
  return controller === undefined
    ? (fn as Call).apply(thisArg, args)
    : callWithSignal(controller, fn, thisArg, args);
}

/** The call's signal aborts on the timeout and, when the caller passed its own signal, with that one too. */
export function callWithSignal(
  controller: AbortController,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
): unknown {
  const outer = callerSignal(args);
  const signal = outer === undefined ? controller.signal : AbortSignal.any([controller.signal, outer]);
  return withCallSignal(signal, () => (fn as Call).apply(thisArg, args));
}
