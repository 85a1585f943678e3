import type { Clock } from './clock';

interface Sleeper {
  at: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told to. Tests hand it to a breaker or the module (`clock`) and call
 * `advance(ms)`; retry waits (`sleep`) resolve when the clock passes their deadline.
 *
 * @example
 * const clock = new ManualClock();
 * const breaker = createBreaker('payment', { halfOpenAfterMs: 30_000 }, { clock });
 * clock.advance(30_000); // the next call is a half-open probe
 */
export class ManualClock implements Clock {
  private sleepers: Sleeper[] = [];

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  /** Moves time forward by `ms` and wakes every sleeper whose deadline has come. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.set(this.time + ms);
  }

  /** Sets the time (never backwards for sleepers: those due are woken). */
  set(time: number): void {
    this.time = time;
    const due = this.sleepers.filter((s) => s.at <= time);
    this.sleepers = this.sleepers.filter((s) => s.at > time);
    for (const s of due) s.resolve();
  }

  /** Resolves once the clock has advanced by `ms`; rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        at: this.time + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Sleepers waiting now. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }
}
