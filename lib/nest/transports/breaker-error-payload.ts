import type { CircuitState } from '../../core/circuit-state';
import type { CircuitOpenError } from '../../core/errors';

/**
 * The object an open circuit becomes on the RPC and WebSocket transports (and the GraphQL extensions'
 * basis): plain JSON, so every transport's serializer carries it unchanged to the client.
 */
export interface CircuitOpenPayload {
  code: 'ECIRCUITOPEN';
  message: string;
  breaker: string;
  state: CircuitState;
  retryAfterMs: number;
  /** The key of a keyed breaker's circuit, when the rejection came from one. */
  key?: string;
}

export function circuitOpenPayload(error: CircuitOpenError): CircuitOpenPayload {
  const payload: CircuitOpenPayload = {
    code: 'ECIRCUITOPEN',
    message: error.message,
    breaker: error.breakerName,
    state: error.state,
    retryAfterMs: error.retryAfterMs,
  };
  // Read defensively: keyed breakers add `key` to the error.
  const key = (error as { key?: unknown }).key;
  if (typeof key === 'string') payload.key = key;
  return payload;
}
