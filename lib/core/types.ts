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
}

export type BreakerEventType =
  'state_change' | 'success' | 'failure' | 'rejected' | 'timeout' | 'fallback' | 'ignored';

export interface BreakerEvent {
  type: BreakerEventType;
  name: string;
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
  /** Observable calls unsubscribed before they finished (nothing recorded). */
  cancelledCalls: number;
  /** Calls slower than `slowCallDurationMs` (whatever their outcome). */
  slowCalls: number;
  /** Calls that exceeded `callTimeoutMs` (also counted in `failedCalls`). */
  timeouts: number;
  /** Calls answered by a fallback. */
  fallbacks: number;
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
}
