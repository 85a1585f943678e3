import { BadRequestException, NotFoundException } from '@nestjs/common';
import type { Breaker } from '../core/breaker';
import { CircuitState } from '../core/circuit-state';
import { describeValue } from '../core/options';
import type { BreakerSnapshot } from '../core/types';
import type { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';

const STATES = Object.values(CircuitState) as string[];
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/**
 * The `key` query parameter: absent, or one string (a key may hold `/`, so it travels in the query, not
 * the path). A repeated parameter is a 400, not a guess.
 */
export function keyParam(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string')
    throw new BadRequestException(`key must be given once, as a string, got ${describeValue(raw)}`);
  return raw;
}

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
  state: unknown,
  limit: unknown,
): BreakerSnapshot[] {
  if (state !== undefined && (typeof state !== 'string' || !STATES.includes(state)))
    throw new BadRequestException(`state must be one of ${STATES.join(', ')}, got ${describeValue(state)}`);
  let max = DEFAULT_LIMIT;
  if (limit !== undefined) {
    max = typeof limit === 'string' && /^\d+$/.test(limit) ? Number(limit) : NaN;
    if (!(max >= 1 && max <= MAX_LIMIT))
      throw new BadRequestException(
        `limit must be an integer in [1, ${MAX_LIMIT}], got ${describeValue(limit)}`,
      );
  }
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
