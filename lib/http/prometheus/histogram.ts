import { BreakerConfigError } from '../../core/errors';
import type { DurationObserver } from '../../core/state-machine';

/**
 * Default upper bounds (seconds) of the call duration histogram: from 5 ms to 10 s, the range remote
 * calls guarded by a breaker live in.
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Checks histogram bucket bounds: finite, positive, strictly increasing; names the bad entry. */
export function validateBuckets(buckets: unknown, option: string): readonly number[] {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new BreakerConfigError(
      `${option} must be a non-empty array of upper bounds in seconds (or false), got ${JSON.stringify(buckets) ?? String(buckets)}`,
    );
  }
  buckets.forEach((b: unknown, i) => {
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0) {
      throw new BreakerConfigError(
        `${option}[${i}] must be a finite number of seconds > 0, got ${String(b)}`,
      );
    }
    if (i > 0 && b <= (buckets[i - 1] as number)) {
      throw new BreakerConfigError(
        `${option} must be strictly increasing, got ${String(buckets[i - 1])} then ${b} at index ${i}`,
      );
    }
  });
  return [...(buckets as number[])];
}

/**
 * A fixed-bucket histogram of call durations: memory is one counter per bucket whatever the traffic,
 * and an observation is a short scan over the bounds (no raw latencies are kept).
 */
export class DurationHistogram implements DurationObserver {
  /** Observations per bucket (not cumulative); the last slot is the +Inf overflow. */
  private readonly counts: Float64Array;
  private total = 0;
  private sumSeconds = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(durationMs: number): void {
    const seconds = durationMs / 1000;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    this.counts[i]++;
    this.total++;
    this.sumSeconds += seconds;
  }

  get count(): number {
    return this.total;
  }

  get sum(): number {
    return this.sumSeconds;
  }

  /** Cumulative counts per bound, `+Inf` last (equal to `count`), as the exposition format wants them. */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let running = 0;
    for (let i = 0; i < this.counts.length; i++) {
      running += this.counts[i];
      out[i] = running;
    }
    return out;
  }
}
