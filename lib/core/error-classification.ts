import { BulkheadFullError, CallTimeoutError, CircuitOpenError, ResultFailureError } from './errors';
import type { ResolvedOptions } from './options';

/**
 * Whether an error counts against the downstream: ignoreErrors wins over recordErrors; recordErrors
 * (when set) limits; isFailure decides last.
 */
export function isRecordedError(options: ResolvedOptions, error: unknown): boolean {
  // Both are the breaker's own verdicts (a timeout, a value reported as failed), not errors to classify.
  if (error instanceof CallTimeoutError || error instanceof ResultFailureError) return true;
  if (options.ignoreErrors !== undefined && matches(error, options.ignoreErrors)) return false;
  if (options.recordErrors !== undefined && !matches(error, options.recordErrors)) return false;
  if (options.isFailure === undefined) return true;
  try {
    return options.isFailure(error) !== false;
  } catch {
    // A throwing predicate must not turn a downstream error into a crash of the breaker: count it.
    return true;
  }
}

/**
 * Whether another attempt may help. The breaker's refusals are not the downstream failing: an open
 * circuit is never retried, a full bulkhead only when `retryOn` asks for it (more attempts add to the
 * load that filled it).
 */
export function isRetryable(options: ResolvedOptions, error: unknown): boolean {
  if (error instanceof CircuitOpenError) return false;
  const retryOn = options.retry?.retryOn;
  if (retryOn !== undefined) return retryOn(error) === true;
  if (error instanceof BulkheadFullError) return false;
  return isRecordedError(options, error);
}

/** Whether a fallback may replace the outcome: the breaker's refusals, and every recorded failure. */
export function isFallbackCase(options: ResolvedOptions, error: unknown): boolean {
  return (
    error instanceof CircuitOpenError || error instanceof BulkheadFullError || isRecordedError(options, error)
  );
}

function matches(error: unknown, classes: readonly (abstract new (...args: never[]) => unknown)[]): boolean {
  for (const c of classes) if (error instanceof c) return true;
  return false;
}
