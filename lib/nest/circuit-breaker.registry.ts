import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Breaker } from '../core/breaker';
import { BreakerRegistry } from '../core/registry';
import type { CircuitStateStore } from '../core/store';
import { registryOptionsOf, validateModuleOptions } from './circuit-breaker-options';
import { CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker.constants';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface';

/**
 * The application's breakers by name: the core `BreakerRegistry`, built from the module options and
 * injectable anywhere the module is visible. Breakers configured in `breakers` exist from bootstrap;
 * invalid options fail bootstrap with a message naming the breaker, the option and the bad value.
 *
 * @example
 * constructor(private readonly breakers: CircuitBreakerRegistry) {}
 * quote(id: string) {
 *   return this.breakers.get('pricing').executePromise(() => this.pricing.quote(id));
 * }
 */
@Injectable()
export class CircuitBreakerRegistry extends BreakerRegistry implements OnApplicationShutdown {
  private readonly stateStore: CircuitStateStore | undefined;

  constructor(@Inject(CIRCUIT_BREAKER_OPTIONS) options: CircuitBreakerModuleOptions) {
    super(registryOptionsOf(validateModuleOptions(options)));
    this.stateStore = options.store;
  }

  /** The breaker named `name` if it exists; never creates one (for read-only callers such as routes). */
  find(name: string): Breaker | undefined {
    return this.has(name) ? this.get(name) : undefined;
  }

  /** Stops retry waits and bulkhead queues, and closes the state store, when the application closes. */
  async onApplicationShutdown(): Promise<void> {
    this.dispose();
    await this.stateStore?.close();
  }
}
