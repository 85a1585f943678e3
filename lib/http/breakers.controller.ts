import { Controller, Get, Inject, Param, Query, UseGuards, type Type } from '@nestjs/common';
import type { BreakerSnapshot } from '../core/types';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { breakerOr404 } from './breaker-lookup';
import { keyedBreakerOr404, listKeys } from './keyed-breaker-routes';
import { BreakerKeyPipe, BreakerNamePipe } from './route-inputs';

/**
 * The read-only routes, `GET /<path>`, `GET /<path>/:name` (`?key=`) and `GET /<path>/:name/keys`, as a controller class mounted at
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

    /** One breaker's snapshot (a family's view), or one key's with `?key=`; 404 for what the registry does not hold. */
    @Get(':name')
    one(
      @Param('name', BreakerNamePipe) name: string,
      @Query('key', BreakerKeyPipe) key: string | undefined,
    ): BreakerSnapshot {
      if (key !== undefined) return keyedBreakerOr404(this.registry, name, key).snapshot();
      breakerOr404(this.registry, name);
      return this.registry.snapshotOf(name) as BreakerSnapshot;
    }

    /** The keyed breakers of a family: `?state=open&limit=100`. */
    @Get(':name/keys')
    keys(
      @Param('name', BreakerNamePipe) name: string,
      @Query('state') state: unknown,
      @Query('limit') limit: unknown,
    ): BreakerSnapshot[] {
      return listKeys(this.registry, name, state, limit);
    }
  }
  return CircuitBreakersController;
}
