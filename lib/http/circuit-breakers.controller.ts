import {
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
  type Type,
} from '@nestjs/common';
import type { Breaker } from '../core/breaker';
import { describeValue } from '../core/options';
import type { BreakerSnapshot } from '../core/types';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { keyedBreakerOr404, keyParam, listKeys } from './keyed-breaker-routes';

/** Looks a breaker up without ever creating one (a route must not grow the registry); 404 when absent. */
export function breakerOr404(registry: CircuitBreakerRegistry, name: string): Breaker {
  const breaker = registry.find(name);
  if (breaker === undefined) throw new NotFoundException(`no circuit breaker named ${describeValue(name)}`);
  return breaker;
}

/**
 * The read-only routes, `GET /<path>` and `GET /<path>/:name`, as a controller class mounted at
 * `http.path` behind `http.guards` (one class per module registration: the path is decorator metadata).
 */
export function createCircuitBreakersController(http: ResolvedHttpOptions): Type<unknown> {
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
    one(@Param('name') name: string, @Query('key') rawKey: unknown): BreakerSnapshot {
      const key = keyParam(rawKey);
      if (key !== undefined) return keyedBreakerOr404(this.registry, name, key).snapshot();
      breakerOr404(this.registry, name);
      return this.registry.snapshotOf(name) as BreakerSnapshot;
    }

    /** The keyed breakers of a family: `?state=open&limit=100`. */
    @Get(':name/keys')
    keys(
      @Param('name') name: string,
      @Query('state') state: unknown,
      @Query('limit') limit: unknown,
    ): BreakerSnapshot[] {
      return listKeys(this.registry, name, state, limit);
    }
  }
  return CircuitBreakersController;
}

/** `POST /<path>/:name/force-open | disable | reset`, mounted only with `http.control: true`. */
export function createCircuitBreakersControlController(http: ResolvedHttpOptions): Type<unknown> {
  @Controller(http.path)
  @UseGuards(...http.guards)
  class CircuitBreakersControlController {
    constructor(@Inject(CircuitBreakerRegistry) private readonly registry: CircuitBreakerRegistry) {}

    @Post(':name/force-open')
    @HttpCode(200)
    forceOpen(@Param('name') name: string, @Query('key') key: unknown): BreakerSnapshot {
      return this.apply(name, key, 'forceOpen');
    }

    @Post(':name/disable')
    @HttpCode(200)
    disable(@Param('name') name: string, @Query('key') key: unknown): BreakerSnapshot {
      return this.apply(name, key, 'disable');
    }

    @Post(':name/reset')
    @HttpCode(200)
    reset(@Param('name') name: string, @Query('key') key: unknown): BreakerSnapshot {
      return this.apply(name, key, 'reset');
    }

    /** Acts on the unkeyed breaker, or on one alive key with `?key=`. */
    private apply(name: string, rawKey: unknown, action: 'forceOpen' | 'disable' | 'reset'): BreakerSnapshot {
      const key = keyParam(rawKey);
      const breaker =
        key === undefined ? breakerOr404(this.registry, name) : keyedBreakerOr404(this.registry, name, key);
      breaker[action]();
      return breaker.snapshot();
    }
  }
  return CircuitBreakersControlController;
}
