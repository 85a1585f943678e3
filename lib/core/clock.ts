/**
 * Where the engine reads time from. Every decision that depends on time (windows, slow calls,
 * half-open timing, event timestamps) reads `now()`, so a test that drives a fake clock controls them all.
 *
 * @example
 * let t = 0;
 * const clock: Clock = { now: () => t };
 * const breaker = createBreaker('payment', { halfOpenAfterMs: 1000 }, { clock });
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Real time (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() };
