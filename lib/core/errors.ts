import { CircuitState } from './circuit-state';

/** Why a call was refused without running: the circuit is open (or its probes are taken), or the throttle shed it. */
export type RejectionReason = 'open' | 'throttled';

/** What else a `CircuitOpenError` may carry. */
export interface CircuitOpenErrorDetails {
  /** The key of a keyed breaker (a family's circuit for one tenant, host...). */
  key?: string;
  /** Default `'open'`. */
  reason?: RejectionReason;
}

/**
 * A call was rejected without running because the circuit is OPEN / FORCED_OPEN, or because the
 * half-open probes are all taken (`reason: 'open'`), or because adaptive throttling shed it
 * (`reason: 'throttled'`, see `CallThrottledError`).
 *
 * @example
 * try { await payment.executePromise(charge); }
 * catch (e) { if (e instanceof CircuitOpenError) queueForLater(order, e.retryAfterMs); else throw e; }
 */
export class CircuitOpenError extends Error {
  readonly code = 'ECIRCUITOPEN' as const;
  /** The key of a keyed breaker (`breakerName` is then its family); undefined for a plain one. */
  readonly key?: string;
  /** Why the call was refused: the circuit (`'open'`), or the adaptive throttle (`'throttled'`, see CallThrottledError). */
  readonly reason: RejectionReason;
  constructor(
    readonly breakerName: string,
    readonly state: CircuitState,
    /** Milliseconds until a probe may be admitted (0 when probes are taken or the circuit is forced open). */
    readonly retryAfterMs: number,
    details: CircuitOpenErrorDetails = {},
  ) {
    const key = details.key;
    const who = key === undefined ? `"${breakerName}"` : `"${breakerName}" (key ${JSON.stringify(key)})`;
    super(
      state === CircuitState.FORCED_OPEN
        ? `circuit breaker ${who} is forced open`
        : state === CircuitState.HALF_OPEN
          ? `circuit breaker ${who} is half-open and its probes are taken`
          : `circuit breaker ${who} is open; retry in ${retryAfterMs} ms`,
    );
    this.name = 'CircuitOpenError';
    if (key !== undefined) this.key = key;
    this.reason = details.reason ?? 'open';
  }
}

/**
 * A call refused by the adaptive throttle (`throttle` option) while the circuit is CLOSED: the downstream
 * accepted too few of the recent calls. A `CircuitOpenError` (same code, fallbacks apply, retry never
 * retries it) with `reason: 'throttled'` and no `retryAfterMs` (0): the next call may well be admitted.
 *
 * @example
 * if (error instanceof CallThrottledError) metrics.shed.inc({ downstream: error.breakerName });
 */
export class CallThrottledError extends CircuitOpenError {
  override readonly reason = 'throttled' as const;
  constructor(
    breakerName: string,
    /** The probability the call was refused with (0..1]. */
    readonly probability: number,
    key?: string,
  ) {
    super(breakerName, CircuitState.CLOSED, 0, { key, reason: 'throttled' });
    const who = key === undefined ? `"${breakerName}"` : `"${breakerName}" (key ${JSON.stringify(key)})`;
    this.message = `circuit breaker ${who} throttled the call (refusing ${(probability * 100).toFixed(1)}% of calls: the downstream accepts too few)`;
    this.name = 'CallThrottledError';
  }
}

/** The call ran longer than `callTimeoutMs`. Counted as a failure. */
export class CallTimeoutError extends Error {
  readonly code = 'ECALLTIMEOUT' as const;
  constructor(
    readonly breakerName: string,
    readonly timeoutMs: number,
  ) {
    super(`call through circuit breaker "${breakerName}" timed out after ${timeoutMs} ms`);
    this.name = 'CallTimeoutError';
  }
}

/** The bulkhead's concurrent slots and its queue are full (or the queue wait timed out). */
export class BulkheadFullError extends Error {
  readonly code = 'EBULKHEADFULL' as const;
  constructor(
    readonly breakerName: string,
    readonly maxConcurrent: number,
    readonly maxQueue: number,
    reason = 'its slots and queue are full',
  ) {
    super(`bulkhead of circuit breaker "${breakerName}" rejected the call: ${reason}`);
    this.name = 'BulkheadFullError';
  }
}

/** Options failed validation. The message names the breaker, the option, the bad value and what is allowed. */
export class BreakerConfigError extends Error {
  readonly code = 'EBREAKERCONFIG' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BreakerConfigError';
  }
}

/**
 * The error a fallback (or retry predicate) receives when `isResultFailure` judged a returned value a
 * failure. The value itself is on `result`.
 *
 * A protected function may also throw one itself to report "this value is a failure" (the HTTP
 * integrations do, for a 5xx response): it is always recorded as a failure, whatever `isFailure` says,
 * and with retry or a fallback configured the breaker hands `result` back when neither applies.
 * `retryAfterMs` is the downstream's own hint (a `Retry-After`): if this failure opens the circuit,
 * OPEN lasts at least that long.
 */
export class ResultFailureError extends Error {
  readonly code = 'ERESULTFAILURE' as const;
  constructor(
    readonly breakerName: string,
    readonly result: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(`circuit breaker "${breakerName}": the call returned a value judged a failure`);
    this.name = 'ResultFailureError';
  }
}

/**
 * A user callback (`isFailure`, `isResultFailure`, `retry.retryOn`, a key function...) threw while the
 * breaker judged a call. The call was recorded once, as a failure; no fallback replaces this error.
 * `cause` is what the callback threw; `original` is the error or value it was judging.
 *
 * @example
 * catch (e) {
 *   if (e instanceof BreakerCallbackError) logger.error(`${e.callback} of ${e.breakerName} is broken`, e.cause);
 * }
 */
export class BreakerCallbackError extends Error {
  readonly code = 'EBREAKERCALLBACK' as const;
  constructor(
    readonly breakerName: string,
    /** The option's path, e.g. `isResultFailure` or `retry.retryOn`. */
    readonly callback: string,
    /** What the callback threw. */
    override readonly cause: unknown,
    /** The error or result the callback was judging. */
    readonly original?: unknown,
  ) {
    super(
      `circuit breaker "${breakerName}": ${callback} threw: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'BreakerCallbackError';
  }
}
