import { settleError, settleRejection, settleValue } from './call-outcome';
import type { CallEngine } from './call-engine';

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
