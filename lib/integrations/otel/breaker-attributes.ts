import type { Attributes } from '@opentelemetry/api';

/** The attribute names this instrumentation writes (metrics and span events alike). */
export const ATTR = {
  name: 'circuit_breaker.name',
  key: 'circuit_breaker.key',
  outcome: 'circuit_breaker.outcome',
  state: 'circuit_breaker.state',
  from: 'circuit_breaker.from',
  to: 'circuit_breaker.to',
  reason: 'circuit_breaker.reason',
  errorType: 'error.type',
} as const;

/**
 * The attributes that say which series a breaker's metrics belong to. The one place where a series'
 * identity is decided: a keyed family (or, with `keys.metrics: 'key'`, one key) adds its attributes here.
 */
export function seriesAttributes(name: string): Attributes {
  return { [ATTR.name]: name };
}
