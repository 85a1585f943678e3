import { Controller, HttpCode, Inject, Param, Post, UseGuards, type Type } from '@nestjs/common';
import type { BreakerSnapshot } from '../core/types';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { breakerOr404 } from './breaker-lookup';
import { BreakerNamePipe } from './route-inputs';

/** `POST /<path>/:name/force-open | disable | reset`, mounted only with `http.control: true`. */
export function createControlController(http: ResolvedHttpOptions): Type<unknown> {
  @Controller(http.path)
  @UseGuards(...http.guards)
  class CircuitBreakerControlController {
    constructor(@Inject(CircuitBreakerRegistry) private readonly registry: CircuitBreakerRegistry) {}

    @Post(':name/force-open')
    @HttpCode(200)
    forceOpen(@Param('name', BreakerNamePipe) name: string): BreakerSnapshot {
      return this.apply(name, 'forceOpen');
    }

    @Post(':name/disable')
    @HttpCode(200)
    disable(@Param('name', BreakerNamePipe) name: string): BreakerSnapshot {
      return this.apply(name, 'disable');
    }

    @Post(':name/reset')
    @HttpCode(200)
    reset(@Param('name', BreakerNamePipe) name: string): BreakerSnapshot {
      return this.apply(name, 'reset');
    }

    private apply(name: string, action: 'forceOpen' | 'disable' | 'reset'): BreakerSnapshot {
      const breaker = breakerOr404(this.registry, name);
      breaker[action]();
      return breaker.snapshot();
    }
  }
  return CircuitBreakerControlController;
}
