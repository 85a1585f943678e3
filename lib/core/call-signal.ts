let current: AbortSignal | undefined;

/**
 * The AbortSignal of the breaker call that is starting, or `undefined` when the breaker has no
 * `callTimeoutMs` (then the caller's own signal, if any, is what the function should use). It also aborts
 * when the caller's signal (the call's last argument, when it is an AbortSignal) aborts. Read it synchronously at the top of the protected function (before
 * any `await`): it is aborted when the call times out, so the underlying work can stop.
 *
 * @example
 * breaker.executePromise(() => fetch(url, { signal: breakerSignal() }));
 *
 * class Inventory {
 *   @CircuitBreaker('inventory')
 *   load(id: string) { return this.http.get(`/items/${id}`, { signal: breakerSignal() }); }
 * }
 */
export function breakerSignal(): AbortSignal | undefined {
  return current;
}

/** Runs `fn` with `signal` as the current call signal, restoring the outer one afterwards (nested breakers). */
export function withCallSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  const outer = current;
  current = signal;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** The caller's signal: the last argument, when it is an AbortSignal. */
export function callerSignal(args: readonly unknown[]): AbortSignal | undefined {
  const last = args.length === 0 ? undefined : args[args.length - 1];
  return last instanceof AbortSignal ? last : undefined;
}
