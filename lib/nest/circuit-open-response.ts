import { HttpException, type HttpServer } from '@nestjs/common';
import { CircuitState } from '../core/circuit-state';
import { BulkheadFullError, CallTimeoutError, CircuitOpenError } from '../core/errors';

/** The breaker errors the HTTP mapping answers: an open circuit, a call timeout, a full bulkhead. */
export type BreakerHttpError = CircuitOpenError | CallTimeoutError | BulkheadFullError;

export function isBreakerHttpError(error: unknown): error is BreakerHttpError {
  return (
    error instanceof CircuitOpenError ||
    error instanceof CallTimeoutError ||
    error instanceof BulkheadFullError
  );
}

/** The JSON body a breaker error becomes at the HTTP layer (503, or 504 for a call timeout). */
export interface BreakerErrorBody {
  statusCode: 503 | 504;
  error: 'Service Unavailable' | 'Gateway Timeout';
  /** The error's own message, naming the breaker and the cause. */
  message: string;
  breaker: string;
  /** The key, for a keyed breaker's circuit. */
  key?: string;
  /** The breaker's state (for a timeout or a full bulkhead: its state when the answer was made). */
  state?: CircuitState;
}

/** Status, body and `Retry-After` (whole seconds) of one breaker error. */
export interface BreakerHttpAnswer {
  status: 503 | 504;
  body: BreakerErrorBody;
  retryAfterSeconds?: number;
}

/** Reads `reason` without depending on it: a throttled rejection is a `CircuitOpenError` with `reason: 'throttled'`. */
export function isThrottled(error: CircuitOpenError): boolean {
  return (error as { reason?: unknown }).reason === 'throttled';
}

/**
 * `Retry-After` of an open circuit in whole seconds, rounded up: when the next probe is allowed (at least 1),
 * 1 while the half-open probes are taken; none for a circuit forced open (no time is known) or a throttled
 * call (the throttle sheds a share of calls; there is no time at which they pass again).
 */
function openRetryAfterSeconds(error: CircuitOpenError): number | undefined {
  if (error.state === CircuitState.FORCED_OPEN || isThrottled(error)) return undefined;
  return Math.max(1, Math.ceil(error.retryAfterMs / 1000));
}

/**
 * What `error` answers over HTTP. `stateOf` reads the current state of a named breaker (timeouts and
 * bulkhead rejections do not carry one).
 */
export function httpAnswerOf(
  error: BreakerHttpError,
  stateOf: (breakerName: string) => CircuitState | undefined,
): BreakerHttpAnswer {
  if (error instanceof CircuitOpenError) {
    const body = bodyOf(503, error.message, error.breakerName, error.state);
    if (error.key !== undefined) body.key = error.key;
    return { status: 503, body, retryAfterSeconds: openRetryAfterSeconds(error) };
  }
  const state = stateOf(error.breakerName);
  if (error instanceof CallTimeoutError)
    return { status: 504, body: bodyOf(504, error.message, error.breakerName, state) };
  // A slot frees as soon as one running call ends: a short wait is the honest hint.
  return { status: 503, body: bodyOf(503, error.message, error.breakerName, state), retryAfterSeconds: 1 };
}

function bodyOf(
  statusCode: 503 | 504,
  message: string,
  breaker: string,
  state: CircuitState | undefined,
): BreakerErrorBody {
  const body: BreakerErrorBody = {
    statusCode,
    error: statusCode === 504 ? 'Gateway Timeout' : 'Service Unavailable',
    message,
    breaker,
  };
  if (state !== undefined) body.state = state;
  return body;
}

/** Sets `Retry-After` of `answer` on a response that has not been sent yet. */
export function setRetryAfter(adapter: HttpServer, response: unknown, answer: BreakerHttpAnswer): void {
  if (answer.retryAfterSeconds !== undefined && !adapter.isHeadersSent(response))
    adapter.setHeader(response, 'Retry-After', String(answer.retryAfterSeconds));
}

/**
 * The 503 or 504 a breaker error becomes at the HTTP layer: an ordinary HttpException, so the application's
 * own exception filters format it as they format any other (and Nest logs no stack trace for it). The
 * breaker error is its `cause`.
 */
export class BreakerHttpException extends HttpException {
  constructor(
    readonly breakerError: BreakerHttpError,
    answer: BreakerHttpAnswer,
  ) {
    super(answer.body, answer.status, { cause: breakerError });
  }
}
