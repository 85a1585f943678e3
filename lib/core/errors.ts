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
  /** The key of a keyed breaker; undefined for a plain one. */
  readonly key?: string;
  readonly reason: RejectionReason;
  constructor(
    readonly breakerName: string,
    readonly state: CircuitState,
    /** Milliseconds until a probe may be admitted (0 when probes are taken or the circuit is forced open). */
    readonly retryAfterMs: number,
    details: CircuitOpenErrorDetails = {},
  ) {
    super(
      state === CircuitState.FORCED_OPEN
        ? `circuit breaker "${breakerName}" is forced open`
        : state === CircuitState.HALF_OPEN
          ? `circuit breaker "${breakerName}" is half-open and its probes are taken`
          : `circuit breaker "${breakerName}" is open; retry in ${retryAfterMs} ms`,
    );
    this.name = 'CircuitOpenError';
    if (details.key !== undefined) this.key = details.key;
    this.reason = details.reason ?? 'open';
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
    readonly original: unknown,
  ) {
    super(
      `circuit breaker "${breakerName}": ${callback} threw: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'BreakerCallbackError';
  }
}
