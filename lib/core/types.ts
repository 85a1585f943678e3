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

/**
 * How one breaker behaves. Every option is optional; see the README's options table.
 *
 * @example
 * const payment = createBreaker('payment', {
 *   failureThreshold: 5,
 *   failureRateThreshold: 50,
 *   window: { type: 'time', sizeMs: 60_000, buckets: 10 },
 *   halfOpenAfterMs: 30_000,
 *   fallback: (order: Order, error: unknown) => ({ queued: true }),
 * });
 */
export interface BreakerOptions {
  /**
   * Consecutive failures that open the circuit (the classic trip). An integer >= 1, or `Infinity` to
   * rely on the rate trips alone. Default 5.
   * @example { failureThreshold: 3 }
   */
  failureThreshold?: number;
  /**
   * Percent in (0, 100]: also open when the failure rate over `window` reaches it (`>=`), once the window
   * holds `minimumCalls` calls. Unset: no failure-rate trip.
   * @example { failureRateThreshold: 50, minimumCalls: 20 }
   */
  failureRateThreshold?: number;
  /**
   * A call slower than this (ms) counts as slow. With `slowCallRateThreshold`, slow calls can open the
   * circuit, and a slow half-open probe counts as a failed one.
   * @example { slowCallDurationMs: 2_000, slowCallRateThreshold: 80 }
   */
  slowCallDurationMs?: number;
  /** Percent in (0, 100] of slow calls over `window` that opens the circuit. Needs `slowCallDurationMs`. */
  slowCallRateThreshold?: number;
  /**
   * The window the rates are computed over: the last `size` calls, or the last `sizeMs` in `buckets` time
   * buckets. Naming it keeps a window even without a rate trip (its rates then show in snapshots).
   * Default `{ type: 'time', sizeMs: 60000, buckets: 60 }`, kept only with a rate trip.
   * @example { window: { type: 'count', size: 100 } }
   */
  window?: WindowOptions;
  /**
   * No rate trip before the window holds this many calls (an integer >= 1; at most `window.size` for a
   * count window). Below it, snapshots report the rates as -1. Default 10.
   */
  minimumCalls?: number;
  /**
   * How long OPEN lasts before one call is let through as a probe (ms). No timer: the first call after it
   * turns the circuit HALF_OPEN. Default 60000.
   * @example { halfOpenAfterMs: 10_000 }
   */
  halfOpenAfterMs?: number;
  /**
   * OPEN lasts longer after each failed probe round: `{ multiplier, maxMs, jitter? }`, or a function of
   * the n-th consecutive opening returning ms. A function that throws or returns no duration falls back to
   * `halfOpenAfterMs` (with one process warning per breaker name). Default: none.
   * @example { halfOpenBackoff: { multiplier: 2, maxMs: 300_000, jitter: 0.1 } }
   */
  halfOpenBackoff?: HalfOpenBackoff;
  /** Probes admitted at once in HALF_OPEN; the others are rejected at once. Default 1. */
  halfOpenMaxCalls?: number;
  /** Successful probes that close the circuit (clearing the window and the consecutive count). Default 2. */
  successThreshold?: number;
  /**
   * A Promise or Observable call slower than this (ms) fails with `CallTimeoutError` (a recorded failure)
   * and `breakerSignal()` aborts, so the work can stop. Unset: no timeout.
   * @example { callTimeoutMs: 3_000 }
   */
  callTimeoutMs?: number;
  /**
   * Which errors count as failures: false lets the error through unrecorded. If it throws, the call is
   * recorded as a failure and the caller gets a `BreakerCallbackError`. Default: every error.
   * @example { isFailure: (e) => !(e instanceof NotFoundException) }
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * Error classes (subclasses included) that never count as failures; they win over `recordErrors`.
   * @example { ignoreErrors: [BadRequestException] }
   */
  ignoreErrors?: ErrorClass[];
  /** When set, only these error classes (subclasses included) count as failures. */
  recordErrors?: ErrorClass[];
  /**
   * A returned value that counts as a failure (e.g. a 503 response object). The value still reaches the
   * caller unless a fallback applies. If it throws, the caller gets a `BreakerCallbackError`.
   * @example { isResultFailure: (res) => (res as Response).status >= 500 }
   */
  isResultFailure?: (result: unknown) => boolean;
  /**
   * What a rejected or failed call returns instead: a function of the call's arguments then the error,
   * `{ value }`, or `{ lastKnownGood: { ttlMs, maxEntries, key? } }`. (The decorator also takes a method
   * name.) Never applied to a `BreakerCallbackError`.
   * @example { fallback: { value: [] } }
   */
  fallback?: FallbackOption;
  /**
   * Retries of Promise and Observable calls, each attempt a separate call of the breaker; an open circuit
   * is never retried. Synchronous calls get one attempt (they cannot wait; a process warning says so once).
   * @example { retry: { maxAttempts: 3, backoff: { type: 'exponential', baseMs: 100, maxMs: 2_000 } } }
   */
  retry?: RetryOptions;
  /**
   * At most `maxConcurrent` calls run at once; `maxQueue` more wait (up to `queueTimeoutMs`); the rest are
   * refused with `BulkheadFullError` (counted as rejected, never as failures).
   * @example { bulkhead: { maxConcurrent: 10, maxQueue: 50, queueTimeoutMs: 1_000 } }
   */
  bulkhead?: BulkheadOptions;
  /**
   * Recent notable events kept per breaker (a ring; successes are not kept), each holding an error
   * summary, never the error object. 0 keeps none. Default 100.
   */
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
  /** The error itself for `events$` subscribers; an `ErrorSummary` in `recentEvents()`. */
  error?: unknown;
  durationMs?: number;
}

/**
 * What a retained event (the recent-events ring, the HTTP routes, a shared store) keeps of an error:
 * never the error object, a response or a body. `events$` subscribers get the error object itself.
 */
export interface ErrorSummary {
  /** The error's name, e.g. `TypeError`, `CallTimeoutError`. */
  type: string;
  /** At most 1,000 characters. */
  message: string;
  code?: string;
  /** From `error.status` or `error.response.status`. */
  status?: number;
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
