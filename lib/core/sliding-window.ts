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
 */
export class TimeWindow implements SlidingWindow {
  total = 0;
  failures = 0;
  slow = 0;
  private readonly counts: Uint32Array;
  private readonly failed: Uint32Array;
  private readonly slowCounts: Uint32Array;
  private readonly bucketMs: number;
  /** Id of the newest bucket; the ring slot of bucket id b is b % buckets. */
  private head = -Infinity;

  constructor(
    sizeMs: number,
    private readonly buckets: number,
  ) {
    this.bucketMs = sizeMs / buckets;
    this.counts = new Uint32Array(buckets);
    this.failed = new Uint32Array(buckets);
    this.slowCounts = new Uint32Array(buckets);
  }

  record(now: number, failed: boolean, slow: boolean): void {
    let id = Math.floor(now / this.bucketMs);
    if (id > this.head) this.advance(id);
    // A clock that stepped backwards counts the outcome in the newest bucket rather than an expired one.
    else if (id < this.head) id = this.head;
    const slot = id % this.buckets;
    this.counts[slot]++;
    this.total++;
    if (failed) {
      this.failed[slot]++;
      this.failures++;
    }
    if (slow) {
      this.slowCounts[slot]++;
      this.slow++;
    }
  }

  expire(now: number): void {
    const id = Math.floor(now / this.bucketMs);
    if (id > this.head) this.advance(id);
  }

  clear(): void {
    this.counts.fill(0);
    this.failed.fill(0);
    this.slowCounts.fill(0);
    this.total = this.failures = this.slow = 0;
  }

  /** Moves the head to bucket `id`, emptying every slot that id reuses. At most `buckets` steps. */
  private advance(id: number): void {
    if (id - this.head >= this.buckets) {
      this.clear();
    } else {
      for (let b = this.head + 1; b <= id; b++) {
        const slot = b % this.buckets;
        this.total -= this.counts[slot];
        this.failures -= this.failed[slot];
        this.slow -= this.slowCounts[slot];
        this.counts[slot] = this.failed[slot] = this.slowCounts[slot] = 0;
      }
    }
    this.head = id;
  }
}
