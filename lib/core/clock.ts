import { BreakerConfigError } from './errors';
import { describeValue } from './options';

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

/**
 * `clock` as given (or real time when undefined), once it has answered `now()` with a finite number;
 * otherwise a `BreakerConfigError` naming `owner` (e.g. `breaker "payment"`) and what the clock did.
 */
export function checkedClock(owner: string, clock: unknown): Clock {
  if (clock === undefined) return systemClock;
  const now = (clock as { now?: unknown } | null)?.now;
  if (typeof now !== 'function')
    throw new BreakerConfigError(
      `${owner}: clock must have a now() method returning epoch ms, got ${describeValue(clock)}`,
    );
  let sample: unknown;
  try {
    sample = (now as () => unknown).call(clock);
  } catch (thrown) {
    throw new BreakerConfigError(`${owner}: clock.now() threw ${String(thrown)}`);
  }
  if (typeof sample !== 'number' || !Number.isFinite(sample))
    throw new BreakerConfigError(
      `${owner}: clock.now() must return epoch ms as a finite number, got ${sample instanceof Date ? 'a Date (use getTime())' : describeValue(sample)}`,
    );
  return clock as Clock;
}
