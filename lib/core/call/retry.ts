import type { Clock } from '../clock';
import type { RetryBackoff } from '../types';

/** The wait before retry number `attempt` (1 = after the first failure), in ms. */
export function retryDelay(backoff: Required<RetryBackoff>, attempt: number, random: () => number): number {
  const raw = backoff.type === 'constant' ? backoff.baseMs : backoff.baseMs * Math.pow(2, attempt - 1);
  const capped = Math.min(backoff.maxMs, raw);
  return backoff.jitter === 'full' ? random() * capped : capped;
}

/** A clock that can also wait. `ManualClock` implements it; real time uses a timer. */
export interface SleepingClock extends Clock {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function canSleep(clock: Clock): clock is SleepingClock {
  return typeof (clock as Partial<SleepingClock>).sleep === 'function';
}

/**
 * Waits `ms` on `clock` (its own `sleep` when it has one, a timer otherwise); rejects with the signal's
 * reason as soon as `signal` aborts. The timer is cleared either way, so nothing outlives the wait.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (canSleep(clock)) return clock.sleep(ms, signal);
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
