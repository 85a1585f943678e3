import { Controller, HttpCode, Inject, Param, Post, Query, UseGuards, type Type } from '@nestjs/common';
import type { BreakerSnapshot } from '../core/types';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { breakerOr404 } from './breaker-lookup';
import { keyedBreakerOr404 } from './keyed-breaker-routes';
import { BreakerKeyPipe, BreakerNamePipe } from './route-inputs';

/** `POST /<path>/:name/force-open | disable | reset` (`?key=` for one key), mounted only with `http.control: true`. */
export function createControlController(http: ResolvedHttpOptions): Type<unknown> {
  @Controller(http.path)
  @UseGuards(...http.guards)
  class CircuitBreakerControlController {
    constructor(@Inject(CircuitBreakerRegistry) private readonly registry: CircuitBreakerRegistry) {}

    @Post(':name/force-open')
    @HttpCode(200)
    forceOpen(
      @Param('name', BreakerNamePipe) name: string,
      @Query('key', BreakerKeyPipe) key: string | undefined,
    ): BreakerSnapshot {
      return this.apply(name, key, 'forceOpen');
    }

    @Post(':name/disable')
    @HttpCode(200)
    disable(
      @Param('name', BreakerNamePipe) name: string,
      @Query('key', BreakerKeyPipe) key: string | undefined,
    ): BreakerSnapshot {
      return this.apply(name, key, 'disable');
    }

    @Post(':name/reset')
    @HttpCode(200)
    reset(
      @Param('name', BreakerNamePipe) name: string,
      @Query('key', BreakerKeyPipe) key: string | undefined,
    ): BreakerSnapshot {
      return this.apply(name, key, 'reset');
    }

    /** Acts on the unkeyed breaker, or on one alive key with `?key=`. */
    private apply(
      name: string,
      key: string | undefined,
      action: 'forceOpen' | 'disable' | 'reset',
    ): BreakerSnapshot {
      const breaker =
        key === undefined ? breakerOr404(this.registry, name) : keyedBreakerOr404(this.registry, name, key);
      breaker[action]();
      return breaker.snapshot();
    }
  }
  return CircuitBreakerControlController;
}
