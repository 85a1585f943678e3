import { callWithSignal } from './call-invocation';
import { recordedError, settledPromise, settleRejection, settleValue } from './call-outcome';
import { callerSignal } from './call-signal';
import { BulkheadFullError, CallTimeoutError } from './errors';
import { isPromiseLike } from './rx';
import { trackPromise } from './promise-settlement';
import { REJECTED } from './state-machine';
import type { AnyFn, Call, CallEngine } from './call-engine';

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
