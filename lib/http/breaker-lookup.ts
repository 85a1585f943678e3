import { NotFoundException } from '@nestjs/common';
import type { Breaker } from '../core/breaker';
import { describeValue } from '../core/options';
import type { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';

/** Looks a breaker up without ever creating one (a route must not grow the registry); 404 when absent. */
export function breakerOr404(registry: CircuitBreakerRegistry, name: string): Breaker {
  const breaker = registry.find(name);
  if (breaker === undefined) throw new NotFoundException(`no circuit breaker named ${describeValue(name)}`);
  return breaker;
}
