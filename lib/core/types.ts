import type { CircuitState } from './circuit-state';

/** A class of errors, matched with `instanceof` (so subclasses match too). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- error classes take any constructor arguments
export type ErrorClass = abstract new (...args: any[]) => unknown;

/** The window the rate trips (failure rate, slow-call rate) are computed over. */
export type WindowOptions =
  { type: 'count'; size: number } | { type: 'time'; sizeMs: number; buckets?: number };

/** Longer OPEN periods after each failed probe round. */
export type HalfOpenBackoff =
  { multiplier: number; maxMs: number; jitter?: number } | ((attempt: number) => number);

export interface RetryBackoff {
  type: 'exponential' | 'constant';
  baseMs: number;
  maxMs?: number;
  jitter?: 'full' | 'none';
}

export interface RetryOptions {
  /** Attempts in all, the first one included (>= 1). */
  maxAttempts: number;
  backoff?: RetryBackoff;
  /** Which errors to retry. Default: every recorded failure (never `CircuitOpenError`). */
  retryOn?: (error: unknown) => boolean;
}

export interface BulkheadOptions {
  maxConcurrent: number;
  maxQueue?: number;
  queueTimeoutMs?: number;
}

export interface LastKnownGoodOptions {
  ttlMs: number;
  maxEntries: number;
  key?: (...args: never[]) => string;
}

/** Adaptive throttling: see the README ("Adaptive throttling"). */
export interface ThrottleOptions {
  /** Calls sent per call accepted before shedding starts (>= 1; lower sheds harder; 2 is usual). */
  k: number;
  /** How far back requests and accepts are counted, in ms. */
  windowMs: number;
}

/**
 * A fallback: a function called with the call's arguments followed by the error, a fixed `{ value }`,
 * or `{ lastKnownGood }`. (The decorator also accepts a method name.)
 */
export type FallbackOption =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arguments mirror the protected function's
  ((...argsThenError: any[]) => unknown) | { value: unknown } | { lastKnownGood: LastKnownGoodOptions };

/** Every option is optional; see the README's options table. */
export interface BreakerOptions {
  failureThreshold?: number;
  failureRateThreshold?: number;
  slowCallDurationMs?: number;
  slowCallRateThreshold?: number;
  window?: WindowOptions;
  minimumCalls?: number;
  halfOpenAfterMs?: number;
  halfOpenBackoff?: HalfOpenBackoff;
  halfOpenMaxCalls?: number;
  successThreshold?: number;
  callTimeoutMs?: number;
  isFailure?: (error: unknown) => boolean;
  ignoreErrors?: ErrorClass[];
  recordErrors?: ErrorClass[];
  isResultFailure?: (result: unknown) => boolean;
  fallback?: FallbackOption;
  retry?: RetryOptions;
  bulkhead?: BulkheadOptions;
  /** Recent events kept per breaker (ring buffer; successes are not kept). Default 100. */
  recentEventsSize?: number;
  /**
   * Client-side adaptive throttling: while CLOSED, refuse a call with probability
   * `max(0, (requests - k * accepts) / (requests + 1))` over the last `windowMs`.
   *
   * @example
   * { throttle: { k: 2, windowMs: 60_000 } }
   */
  throttle?: ThrottleOptions;
  /** Bounds of the family of keyed breakers under this name (see `registry.get(name, key)`). */
  keys?: KeysOptions;
}

/**
 * How many keyed breakers a family keeps, and for how long.
 *
 * @example
 * new BreakerRegistry({ breakers: { payment: { keys: { max: 5_000, idleMs: 60_000 } } } });
 */
export interface KeysOptions {
  /** Most keyed breakers alive in the family; the least recently used CLOSED one makes room. Default 1000. */
  max?: number;
  /** A CLOSED keyed breaker unused this long is evicted (lazily, no timer). Default 600000 (10 min). */
  idleMs?: number;
  /** `'family'`: metrics get family totals only; `'key'`: also a series per alive key. Default `'family'`. */
  metrics?: 'family' | 'key';
}

export type BreakerEventType =
  'state_change' | 'success' | 'failure' | 'rejected' | 'timeout' | 'fallback' | 'ignored';

export interface BreakerEvent {
  type: BreakerEventType;
  name: string;
  /** The key of a keyed breaker (`name` is then its family). */
  key?: string;
  /** The clock's time when the event was emitted (epoch ms). */
  at: number;
  from?: CircuitState;
  to?: CircuitState;
  /** For state changes: why, e.g. `failure rate 62.5% >= 50% over 16 calls`. */
  reason?: string;
  /** For a transition into OPEN: ms until a probe is allowed. */
  retryAfterMs?: number;
  error?: unknown;
  durationMs?: number;
}

export type StoreStatus = 'memory' | 'shared' | 'degraded';

export interface BreakerSnapshot {
  name: string;
  /** The key of a keyed breaker (`name` is then its family). */
  key?: string;
  state: CircuitState;
  /** Every call that reached the breaker: rejected and ignored ones included. */
  totalCalls: number;
  successfulCalls: number;
  /** Recorded failures: thrown errors, timeouts and failed results. */
  failedCalls: number;
  /** Calls refused without running: open circuit, probes taken, bulkhead full. */
  rejectedCalls: number;
  /** Calls whose error was classified as not a failure. */
  ignoredCalls: number;
  /** Calls their caller abandoned before they finished (Observable unsubscribed, signal aborted); nothing recorded. */
  cancelledCalls: number;
  /** Calls slower than `slowCallDurationMs` (whatever their outcome). */
  slowCalls: number;
  /** Calls that exceeded `callTimeoutMs` (also counted in `failedCalls`). */
  timeouts: number;
  /** Calls refused by the adaptive throttle (also counted in `rejectedCalls`); 0 without `throttle`. */
  throttledCalls: number;
  /** Probability (0..1) that the adaptive throttle refuses the next call; 0 without `throttle` or when not CLOSED. */
  throttleProbability: number;
  /** Calls answered by a fallback. */
  fallbacks: number;
  /** Attempts made again by `retry` (a call that succeeds on its third attempt adds 2); cumulative. */
  retries: number;
  /** Percent of failed calls in the window; -1 below `minimumCalls` or when no rate trip is configured. */
  failureRate: number;
  /** Percent of slow calls in the window; -1 below `minimumCalls` or when no rate trip is configured. */
  slowCallRate: number;
  /** Calls in the window now. */
  bufferedCalls: number;
  /** successfulCalls / totalCalls * 100; 0 while totalCalls is 0. */
  successRate: number;
  consecutiveFailures: number;
  openedCount: number;
  /** Epoch ms of the last state change (creation time until then). */
  lastTransitionAt: number;
  /** ms until a probe is allowed; 0 when not OPEN. */
  retryAfterMs: number;
  /** Probes running now (HALF_OPEN only). */
  halfOpenInFlight: number;
  /** Calls running in the bulkhead / waiting in its queue (0 without bulkhead). */
  bulkheadActive: number;
  bulkheadQueued: number;
  store: StoreStatus;
  /** Families only (a name used with keys): its keyed breakers now, and how many were evicted so far. */
  keys?: FamilyKeyCounts;
}

/** A breaker's cumulative counters (a family adds up its breakers', evicted ones included). */
export type CallCounts = Pick<
  BreakerSnapshot,
  | 'totalCalls'
  | 'successfulCalls'
  | 'failedCalls'
  | 'rejectedCalls'
  | 'ignoredCalls'
  | 'cancelledCalls'
  | 'slowCalls'
  | 'timeouts'
  | 'fallbacks'
  | 'openedCount'
>;

/** The keyed breakers of a family, by state (`alive` counts them all). */
export interface FamilyKeyCounts {
  alive: number;
  open: number;
  halfOpen: number;
  /** Keys evicted so far (idle, or to make room at `keys.max`); `remove()` is not counted. */
  evicted: number;
}
