import { NotFoundException } from '@nestjs/common';
import type { Breaker } from '../core/breaker';
import { describeValue } from '../core/options';
import type { BreakerSnapshot } from '../core/types';
import type { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { parseCircuitState, parseLimit } from './route-inputs';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/** One key of a family, never created by a route (a route must not grow the registry); 404 when not alive. */
export function keyedBreakerOr404(registry: CircuitBreakerRegistry, name: string, key: string): Breaker {
  if (!registry.has(name)) throw new NotFoundException(`no circuit breaker named ${describeValue(name)}`);
  const breaker = registry.findKeyed(name, key);
  if (breaker === undefined)
    throw new NotFoundException(
      `circuit breaker ${describeValue(name)} has no key ${describeValue(key)} alive (never used, evicted or removed)`,
    );
  return breaker;
}

/** `GET /:name/keys?state=&limit=`: keyed snapshots of a family, least recently used first. */
export function listKeys(
  registry: CircuitBreakerRegistry,
  name: string,
  rawState: unknown,
  rawLimit: unknown,
): BreakerSnapshot[] {
  const state = parseCircuitState(rawState);
  const max = parseLimit(rawLimit, MAX_LIMIT, DEFAULT_LIMIT);
  if (!registry.has(name)) throw new NotFoundException(`no circuit breaker named ${describeValue(name)}`);
  const family = registry.familyOf(name);
  if (family === undefined) return [];
  const out: BreakerSnapshot[] = [];
  for (const breaker of family.breakers()) {
    if (out.length >= max) break;
    if (state === undefined || breaker.state === state) out.push(breaker.snapshot());
  }
  return out;
}
