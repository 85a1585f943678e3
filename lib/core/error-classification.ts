import {
  BreakerCallbackError,
  BulkheadFullError,
  CallTimeoutError,
  CircuitOpenError,
  ResultFailureError,
} from './errors';
import type { ResolvedOptions } from './options';

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
