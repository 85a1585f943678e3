import { callerSignal, withCallSignal } from './call-signal';
import type { AnyFn, Call } from './call-engine';

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
