import { REJECTED } from '../circuit-state';
import { ResultFailureError } from '../errors';
import { isObservableLike, isPromiseLike } from '../rx';
import type { AnyFn, Call, CallEngine, CallPolicy, ShapeMemory } from './engine';
import { fallbackOrThrow } from './fallback';
import { isFailedResult, settleError } from './outcome';

/**
 * One synchronous call through the breaker: a rejection is a synchronous throw and nothing waits. So a
 * fleet probe is admitted by local rules (no waiting for the store), a full bulkhead refuses at once (no
 * queue), and retry does not apply. `memory`: the caller's shape memory, forgotten when fn stops
 * returning plain values.
 */
export function callSync(
  breaker: CallEngine,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  memory?: ShapeMemory,
  policy: CallPolicy = breaker,
): unknown {
  if (!policy.plain) warnIfRetryIgnored(breaker);
  let permit = breaker.acquire();
  if (permit === REJECTED && breaker.awaitsFleet) permit = breaker.decideLocally();
  if (permit === REJECTED) {
    const error = breaker.reject();
    if (policy.plain) throw error;
    return fallbackOrThrow(breaker, args, error, thisArg, policy);
  }
  const bulkhead = breaker.bulkhead;
  if (bulkhead !== undefined && !bulkhead.tryEnter()) {
    const full = bulkhead.full();
    breaker.release(permit, full);
    if (policy.plain) throw full;
    return fallbackOrThrow(breaker, args, full, thisArg, policy);
  }
  const start = breaker.readsStart ? breaker.clock.now() : 0;
  let result: unknown;
  try {
    result = (fn as Call).apply(thisArg, args);
  } catch (error) {
    bulkhead?.leave();
    if (settleError(breaker, permit, start, error) && !policy.plain)
      return fallbackOrThrow(breaker, args, error, thisArg, policy);
    throw error;
  }
  bulkhead?.leave();
  if (memory !== undefined && (isPromiseLike(result) || isObservableLike(result))) {
    // The function changed shape: forget the memory so the next call discovers it again.
    memory.shape = 'unknown';
  }
  return finishSync(breaker, permit, start, result, args, thisArg, policy);
}

/** Settles a call that returned a plain value (judged by isResultFailure; cached for last-known-good). */
export function finishSync(
  breaker: CallEngine,
  permit: number,
  start: number,
  result: unknown,
  args: unknown[],
  thisArg: unknown,
  policy: CallPolicy,
): unknown {
  if (isFailedResult(breaker, permit, start, result)) {
    return policy.plain
      ? result
      : fallbackOrThrow(breaker, args, new ResultFailureError(breaker.name, result), thisArg, policy);
  }
  breaker.onSuccess(permit, start);
  policy.lastKnownGood?.store(args, result);
  return result;
}

/** Breaker names already told that their retry does not apply to synchronous calls. */
const warnedSyncRetry = new Set<string>();

/**
 * Retry waits between attempts, which a synchronous call cannot do without becoming async: a sync call
 * gets one attempt. Said once per breaker name (a process warning, code EBREAKERCONFIG), not silently.
 */
export function warnIfRetryIgnored(breaker: CallEngine): void {
  const retry = breaker.options.retry;
  if (retry === undefined || retry.maxAttempts <= 1 || warnedSyncRetry.has(breaker.name)) return;
  warnedSyncRetry.add(breaker.name);
  process.emitWarning(
    `breaker "${breaker.name}": retry (maxAttempts ${retry.maxAttempts}) does not apply to synchronous calls, which cannot wait between attempts; each gets one attempt`,
    { code: 'EBREAKERCONFIG' },
  );
}
