import type { ResolvedOptions } from './options';

/**
 * The window the rate trips read. Implementations keep running totals so that recording an outcome
 * and reading the totals are O(1) (a time window amortises bucket expiry over elapsed time).
 */
export interface SlidingWindow {
  /** Records one outcome at time `now`. */
  record(now: number, failed: boolean, slow: boolean): void;
  /** Drops whatever has aged out by `now` (a no-op for count windows). */
  expire(now: number): void;
  readonly total: number;
  readonly failures: number;
  readonly slow: number;
  clear(): void;
}

const FAILED = 1;
const SLOW = 2;

/** The last `size` outcomes, in a ring of one byte per outcome. */
export class CountWindow implements SlidingWindow {
  total = 0;
  failures = 0;
  slow = 0;
  private readonly outcomes: Uint8Array;
  private next = 0;

  constructor(private readonly size: number) {
    this.outcomes = new Uint8Array(size);
  }

  record(_now: number, failed: boolean, slow: boolean): void {
    const i = this.next;
    if (this.total === this.size) {
      const old = this.outcomes[i];
      if (old & FAILED) this.failures--;
      if (old & SLOW) this.slow--;
    } else {
      this.total++;
    }
    this.outcomes[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.next = i + 1 === this.size ? 0 : i + 1;
  }

  expire(): void {}

  clear(): void {
    this.total = this.failures = this.slow = this.next = 0;
  }
}

/**
 * Outcomes of the last `sizeMs`, in `buckets` partial aggregations of `sizeMs / buckets` ms each,
 * aligned on the clock (bucket id = floor(now / bucketMs)). A bucket leaves the window once it is
 * `buckets` or more buckets older than the current one, whether or not calls came in between.
 *
 * The buckets' three counters (calls, failures, slow calls) share one typed array, three slots per
 * bucket: one array and one buffer per window instead of three (a breaker's heap is mostly fixed costs).
 */
export class TimeWindow implements SlidingWindow {
  total = 0;
  failures = 0;
  slow = 0;
  /** Bucket slot s holds its calls at 3s, failures at 3s + 1, slow calls at 3s + 2. */
  private readonly counters: Uint32Array;
  private readonly bucketMs: number;
  /** Id of the newest bucket; the ring slot of bucket id b is b % buckets. */
  private head = -Infinity;

  constructor(
    sizeMs: number,
    private readonly buckets: number,
  ) {
    this.bucketMs = sizeMs / buckets;
    this.counters = new Uint32Array(3 * buckets);
  }

  record(now: number, failed: boolean, slow: boolean): void {
    let id = Math.floor(now / this.bucketMs);
    if (id > this.head) this.advance(id);
    // A clock that stepped backwards counts the outcome in the newest bucket rather than an expired one.
    else if (id < this.head) id = this.head;
    const at = 3 * (id % this.buckets);
    const c = this.counters;
    c[at]++;
    this.total++;
    if (failed) {
      c[at + 1]++;
      this.failures++;
    }
    if (slow) {
      c[at + 2]++;
      this.slow++;
    }
  }

  expire(now: number): void {
    const id = Math.floor(now / this.bucketMs);
    if (id > this.head) this.advance(id);
  }

  clear(): void {
    this.counters.fill(0);
    this.total = this.failures = this.slow = 0;
  }

  /** Moves the head to bucket `id`, emptying every slot that id reuses. At most `buckets` steps. */
  private advance(id: number): void {
    if (id - this.head >= this.buckets) {
      this.clear();
    } else {
      const c = this.counters;
      for (let b = this.head + 1; b <= id; b++) {
        const at = 3 * (b % this.buckets);
        this.total -= c[at];
        this.failures -= c[at + 1];
        this.slow -= c[at + 2];
        c[at] = c[at + 1] = c[at + 2] = 0;
      }
    }
    this.head = id;
  }
}

/** A percentage with two decimals, as snapshots and trip reasons show it. */
export function rate(part: number, total: number): number {
  return Math.round((part / total) * 100 * 100) / 100;
}

/**
 * Why the rates over a window of `total` calls trip the circuit (failure rate first, then slow-call
 * rate), or undefined while both stay under their thresholds. `fleetWide`: the totals include other
 * instances' calls, which the reason says so that a trip nobody saw locally can be explained.
 */
export function rateTripReason(
  o: ResolvedOptions,
  total: number,
  failures: number,
  slow: number,
  fleetWide: boolean,
): string | undefined {
  const scope = fleetWide ? ' (fleet-wide)' : '';
  if (o.failureRateThreshold !== undefined && failures * 100 >= o.failureRateThreshold * total) {
    return `failure rate ${rate(failures, total)}% >= ${o.failureRateThreshold}% over ${total} calls${scope}`;
  }
  if (o.slowCallRateThreshold !== undefined && slow * 100 >= o.slowCallRateThreshold * total) {
    return `slow-call rate ${rate(slow, total)}% >= ${o.slowCallRateThreshold}% over ${total} calls${scope}`;
  }
  return undefined;
}
