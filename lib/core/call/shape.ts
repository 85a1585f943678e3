import { callerSignal } from '../call-signal';
import { REJECTED } from '../circuit-state';
import { isObservableLike, isPromiseLike } from '../rx';
import type { AnyFn, CallEngine, CallPolicy, ShapeMemory } from './engine';
import { fallbackOrThrow } from './fallback';
import { observableWithPolicy } from './observable';
import { invoke, settleError } from './outcome';
import { promiseWithPolicy, raceTimeout, trackPromise } from './promise';
import { finishSync, warnIfRetryIgnored } from './sync';

/**
 * Acquires now, calls fn, and continues in the pipeline that fits what came back, remembering the shape.
 * A call not known to return a Promise or an Observable must neither wait nor defer: its rejection is a
 * synchronous throw (a rejected Promise once the memory says Promise), and a step only a Promise or an
 * Observable may take (waiting for the fleet, queueing in the bulkhead, deciding per subscription) hands
 * the call to that pipeline once the memory has seen the shape.
 */
export function discoverShape(
  breaker: CallEngine,
  memory: ShapeMemory,
  fn: AnyFn,
  thisArg: unknown,
  args: unknown[],
  policy: CallPolicy,
): unknown {
  let permit = breaker.acquire();
  if (permit === REJECTED) {
    if (memory.shape === 'observable') {
      // An Observable is checked per subscription: let the subscription decide.
      breaker.giveBack(permit);
      return observableWithPolicy(breaker, fn, thisArg, args, undefined, policy);
    }
    if (breaker.awaitsFleet) {
      // A half-open probe the fleet admits: a Promise caller may wait for the store, others decide locally.
      if (memory.shape === 'promise') {
        breaker.giveBack(permit);
        return breaker.runPromise(fn, thisArg, args, policy);
      }
      permit = breaker.decideLocally();
    }
  }
  if (permit === REJECTED) {
    const error = breaker.reject();
    if (memory.shape === 'promise') return Promise.reject(error);
    if (policy.plain) throw error;
    return fallbackOrThrow(breaker, args, error, thisArg, policy);
  }
  const bulkhead = breaker.bulkhead;
  let slot = false;
  if (bulkhead !== undefined) {
    if (bulkhead.tryEnter()) slot = true;
    else if (memory.shape === 'observable') {
      // An Observable takes its slot (or its place in the queue) per subscription.
      breaker.giveBack(permit);
      return observableWithPolicy(breaker, fn, thisArg, args, undefined, policy);
    } else if (bulkhead.hasQueueRoom && memory.shape === 'promise') {
      // Only a call known to return a Promise may wait in the queue: waiting would turn a sync call async.
      breaker.giveBack(permit);
      return breaker.runPromise(fn, thisArg, args, policy);
    } else {
      const full = bulkhead.full();
      breaker.release(permit, full);
      if (memory.shape === 'promise')
        return policy.plain
          ? Promise.reject(full)
          : promiseWithPolicy(breaker, fn, thisArg, args, policy, Promise.reject(full));
      if (policy.plain) throw full;
      return fallbackOrThrow(breaker, args, full, thisArg, policy);
    }
  }
  const start = breaker.readsStart ? breaker.clock.now() : 0;
  const controller = breaker.options.callTimeoutMs === undefined ? undefined : new AbortController();
  let result: unknown;
  try {
    result = invoke(controller, fn, thisArg, args);
  } catch (error) {
    if (slot) bulkhead?.leave();
    memory.shape = 'sync';
    if (!policy.plain) warnIfRetryIgnored(breaker);
    if (settleError(breaker, permit, start, error) && !policy.plain)
      return fallbackOrThrow(breaker, args, error, thisArg, policy);
    throw error;
  }
  if (isPromiseLike(result)) {
    memory.shape = 'promise';
    const strict = !policy.plain;
    const attempt =
      controller === undefined
        ? trackPromise(breaker, permit, start, result, strict, slot, callerSignal(args))
        : raceTimeout(breaker, permit, start, result, strict, slot, controller, callerSignal(args));
    return policy.plain ? attempt : promiseWithPolicy(breaker, fn, thisArg, args, policy, attempt);
  }
  if (slot) bulkhead?.leave();
  if (isObservableLike(result)) {
    // Subscribed per subscription like any Observable: this call's permit is not the subscription's.
    memory.shape = 'observable';
    breaker.giveBack(permit);
    return observableWithPolicy(breaker, fn, thisArg, args, result, policy);
  }
  memory.shape = 'sync';
  if (!policy.plain) warnIfRetryIgnored(breaker);
  return finishSync(breaker, permit, start, result, args, thisArg, policy);
}
