import { isRecordedError } from './error-classification';
import { BreakerCallbackError, ResultFailureError } from './errors';
import type { CallEngine } from './call-engine';

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
