/** The resolved `throttle` option: see AdaptiveThrottle. */
export interface ResolvedThrottle {
  k: number;
  windowMs: number;
}

/** Buckets per throttle window, as for the default time window: expiry moves in steps of windowMs / 60. */
const MAX_BUCKETS = 60;

/** Breakers already warned about a `random` that gave no number in [0, 1): once per breaker. */
const warned = new WeakSet<object>();

/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): over the last `windowMs`, count
 * the calls made (`requests`, refused ones included) and the calls the downstream took (`accepts`), and
 * refuse a new call locally with probability `max(0, (requests - k * accepts) / (requests + 1))`.
 *
 * A call that runs is counted when it ends (as a request, and as an accept if the downstream took it), a
 * refused call when it is refused. Counting at admission instead would hold the calls in flight against
 * the downstream: a burst of 16 concurrent calls to a healthy service would see its 2nd call refused
 * with probability 1/2 before any answer could arrive.
 *
 * While the downstream accepts more than 1/k of the calls nothing is refused; past that, the calls sent
 * track what it accepts (about k times its accepts), so a partial outage sheds only the excess instead of
 * everything. Counts are bucketed like `TimeWindow` (bucket id = floor(now / bucketMs)), so recording
 * and reading are O(1), amortised over elapsed time.
 */
export class AdaptiveThrottle {
  requests = 0;
  accepts = 0;
  /** The probability the latest refused call was drawn against. */
  lastProbability = 0;
  private readonly requestCounts: Uint32Array;
  private readonly acceptCounts: Uint32Array;
  private readonly buckets: number;
  private readonly bucketMs: number;
  /** Id of the newest bucket; the ring slot of bucket id b is b % buckets. */
  private head = -Infinity;

  constructor(
    readonly k: number,
    windowMs: number,
  ) {
    this.buckets = Math.max(1, Math.min(MAX_BUCKETS, Math.floor(windowMs)));
    this.bucketMs = windowMs / this.buckets;
    this.requestCounts = new Uint32Array(this.buckets);
    this.acceptCounts = new Uint32Array(this.buckets);
  }

  /** The probability that a call made at `now` is refused (0..1), from the counts before it. */
  probability(now: number): number {
    this.expire(now);
    const excess = this.requests - this.k * this.accepts;
    return excess <= 0 ? 0 : excess / (this.requests + 1);
  }

  /**
   * Decides whether a call made at `now` may run; a refused call is counted as a request at once.
   * `random` is only asked when the probability is above 0, so a healthy downstream costs no draw.
   */
  admits(now: number, random: () => number, owner: { readonly name: string }): boolean {
    const p = this.probability(now);
    if (p === 0 || drawOf(random, owner) >= p) return true;
    this.lastProbability = p;
    this.count(this.requestCounts, now);
    this.requests++;
    return false;
  }

  /**
   * Counts a call that ran and ended at `now` as a request; `accepted`: the downstream took it (a
   * success, or an error classified as not a failure).
   */
  record(now: number, accepted: boolean): void {
    const slot = this.count(this.requestCounts, now);
    this.requests++;
    if (accepted) {
      this.acceptCounts[slot]++;
      this.accepts++;
    }
  }

  /** Takes back the newest refusal's request (a refused call handed back to ask again elsewhere). */
  forgetRefusal(): void {
    if (this.head === -Infinity) return;
    const slot = this.head % this.buckets;
    if (this.requestCounts[slot] === 0) return;
    this.requestCounts[slot]--;
    this.requests--;
  }

  clear(): void {
    this.requestCounts.fill(0);
    this.acceptCounts.fill(0);
    this.requests = this.accepts = 0;
  }

  /** Counts one in the bucket of `now`; returns its slot. */
  private count(counts: Uint32Array, now: number): number {
    let id = Math.floor(now / this.bucketMs);
    if (id > this.head) this.advance(id);
    // A clock that stepped backwards counts in the newest bucket rather than an expired one.
    else if (id < this.head) id = this.head;
    const slot = id % this.buckets;
    counts[slot]++;
    return slot;
  }

  private expire(now: number): void {
    const id = Math.floor(now / this.bucketMs);
    if (id > this.head) this.advance(id);
  }

  /** Moves the head to bucket `id`, emptying every slot that id reuses. At most `buckets` steps. */
  private advance(id: number): void {
    if (id - this.head >= this.buckets) {
      this.clear();
    } else {
      for (let b = this.head + 1; b <= id; b++) {
        const slot = b % this.buckets;
        this.requests -= this.requestCounts[slot];
        this.accepts -= this.acceptCounts[slot];
        this.requestCounts[slot] = this.acceptCounts[slot] = 0;
      }
    }
    this.head = id;
  }
}

/**
 * One draw of the user's `random`, checked: a draw that throws or is not a number in [0, 1) counts as 1
 * (the call is admitted: a broken random source must not refuse traffic), with a warning once per breaker.
 */
function drawOf(random: () => number, owner: { readonly name: string }): number {
  let draw: unknown;
  try {
    draw = random();
  } catch (error) {
    draw = error;
  }
  if (typeof draw === 'number' && draw >= 0 && draw < 1) return draw;
  if (!warned.has(owner)) {
    warned.add(owner);
    const got = draw instanceof Error ? `threw ${draw.message}` : `returned ${String(draw)}`;
    process.emitWarning(
      `breaker "${owner.name}": random() ${got}, not a number in [0, 1); the throttle admits the call`,
      { code: 'EBREAKERCONFIG' },
    );
  }
  return 1;
}
