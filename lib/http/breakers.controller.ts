import { Controller, Get, Inject, Param, UseGuards, type Type } from '@nestjs/common';
import type { BreakerSnapshot } from '../core/types';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { breakerOr404 } from './breaker-lookup';
import { BreakerNamePipe } from './route-inputs';

/**
 * The read-only routes, `GET /<path>` and `GET /<path>/:name`, as a controller class mounted at
 * `http.path` behind `http.guards` (one class per module registration: the path is decorator metadata).
 */
export function createBreakersController(http: ResolvedHttpOptions): Type<unknown> {
  @Controller(http.path)
  @UseGuards(...http.guards)
  class CircuitBreakersController {
    constructor(@Inject(CircuitBreakerRegistry) private readonly registry: CircuitBreakerRegistry) {}

    /** Every breaker's snapshot, keyed by name. */
    @Get()
    list(): Record<string, BreakerSnapshot> {
      return this.registry.metrics();
    }

    /** One breaker's snapshot; 404 for a name the registry does not hold. */
    @Get(':name')
    one(@Param('name', BreakerNamePipe) name: string): BreakerSnapshot {
      return breakerOr404(this.registry, name).snapshot();
    }
  }
  return CircuitBreakersController;
}
