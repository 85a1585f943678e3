import { ServiceUnavailableException, type HttpServer } from '@nestjs/common';
import { CircuitState } from '../core/circuit-state';
import type { CircuitOpenError } from '../core/errors';

/** The JSON body of the 503 a `CircuitOpenError` becomes. */
export interface CircuitOpenBody {
  statusCode: 503;
  error: 'Service Unavailable';
  message: string;
  breaker: string;
  /** The key, for a keyed breaker. */
  key?: string;
  state: CircuitState;
}

export function circuitOpenBody(error: CircuitOpenError): CircuitOpenBody {
  const body: CircuitOpenBody = {
    statusCode: 503,
    error: 'Service Unavailable',
    message: error.message,
    breaker: error.breakerName,
    state: error.state,
  };
  if (error.key !== undefined) body.key = error.key;
  return body;
}

/**
 * `Retry-After` in whole seconds, rounded up: when the next probe is allowed (at least 1), 1 while the
 * half-open probes are taken, none for a circuit forced open (no time is known).
 */
function retryAfterSeconds(error: CircuitOpenError): number | undefined {
  if (error.state === CircuitState.FORCED_OPEN) return undefined;
  return Math.max(1, Math.ceil(error.retryAfterMs / 1000));
}

/** Sets `Retry-After` for `error` on a response that has not been sent yet. */
export function setRetryAfter(adapter: HttpServer, response: unknown, error: CircuitOpenError): void {
  const seconds = retryAfterSeconds(error);
  if (seconds !== undefined && !adapter.isHeadersSent(response))
    adapter.setHeader(response, 'Retry-After', String(seconds));
}

/**
 * The 503 an open circuit becomes at the HTTP layer: an ordinary HttpException, so the application's own
 * exception filters format it as they format any other. The `CircuitOpenError` is its `cause`.
 */
export class CircuitOpenHttpException extends ServiceUnavailableException {
  constructor(readonly breakerError: CircuitOpenError) {
    super(circuitOpenBody(breakerError), { cause: breakerError });
  }
}
