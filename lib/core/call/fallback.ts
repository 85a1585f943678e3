import type { Clock } from '../clock';
import { ResultFailureError } from '../errors';
import { LastKnownGood } from '../last-known-good';
import type { ResolvedOptions } from '../options';
import type { FallbackOption } from '../types';
import type { Call, CallEngine, CallPolicy } from './engine';
import { isFallbackCase } from './outcome';

/** A policy with `fallback` (validated) in place of the breaker's own; undefined keeps the breaker's. */
export function createCallPolicy(
  breakerName: string,
  options: ResolvedOptions,
  clock: Clock,
  fallback: FallbackOption | undefined,
): CallPolicy {
  const chosen = fallback ?? options.fallback;
  return {
    plain: chosen === undefined && options.retry === undefined,
    fallback: chosen,
    lastKnownGood:
      chosen !== undefined && typeof chosen === 'object' && 'lastKnownGood' in chosen
        ? new LastKnownGood(chosen.lastKnownGood, clock, breakerName)
        : undefined,
  };
}

/** applyFallback's answer when no fallback applies (undefined is a value a fallback may serve). */
export const NOT_SERVED = Symbol('not served');

/**
 * Serves the fallback for `error` when one applies, or returns NOT_SERVED. A function fallback gets the
 * call's arguments then the error, with `this` bound to the caller's `thisArg`; what it returns (a
 * Promise or an Observable included) is the call's result as it is.
 */
export function applyFallback(
  breaker: CallEngine,
  args: unknown[],
  error: unknown,
  thisArg: unknown,
  policy: CallPolicy,
): unknown {
  const fallback = policy.fallback;
  if (fallback === undefined || !isFallbackCase(breaker.name, breaker.options, error)) return NOT_SERVED;
  let value: unknown;
  if (typeof fallback === 'function') {
    breaker.countFallback(error);
    return (fallback as Call).apply(thisArg, [...args, error]);
  }
  if ('value' in fallback) value = fallback.value;
  else {
    const hit = (policy.lastKnownGood as LastKnownGood).lookup(args);
    if (!hit.found) return NOT_SERVED;
    value = hit.value;
  }
  breaker.countFallback(error);
  return value;
}

/**
 * The end of a failed call that is not a Promise: the fallback when one applies, else the failed value
 * itself (a result judged a failure is still the caller's value), else the error thrown.
 */
export function fallbackOrThrow(
  breaker: CallEngine,
  args: unknown[],
  error: unknown,
  thisArg: unknown,
  policy: CallPolicy,
): unknown {
  const served = applyFallback(breaker, args, error, thisArg, policy);
  if (served !== NOT_SERVED) return served;
  if (error instanceof ResultFailureError && error.breakerName === breaker.name) return error.result;
  throw error;
}
