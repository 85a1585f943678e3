import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { CircuitState } from '../core/circuit-state';
import type { BreakerEvent } from '../core/types';
import { CircuitBreakerRegistry } from './circuit-breaker.registry';

/**
 * Logs every state transition through Nest's Logger, one line each: breaker, from, to and why. Listens to
 * `stateChanges$` only, so ordinary calls cost nothing. Subscribed from construction, so transitions
 * during bootstrap are logged too.
 */
@Injectable()
export class CircuitBreakerStateLogger implements OnApplicationShutdown {
  private readonly logger = new Logger('CircuitBreaker');
  private subscription: Subscription | undefined;

  constructor(registry: CircuitBreakerRegistry) {
    this.subscription = registry.stateChanges$.subscribe((event) => this.log(event));
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private log(event: BreakerEvent): void {
    const line =
      `breaker "${event.name}" ${event.from ?? '?'} -> ${event.to ?? '?'}` +
      (event.reason === undefined ? '' : `: ${event.reason}`) +
      (event.retryAfterMs === undefined ? '' : `; half-open in ${event.retryAfterMs} ms`);
    if (event.to === CircuitState.OPEN || event.to === CircuitState.FORCED_OPEN) this.logger.warn(line);
    else this.logger.log(line);
  }
}
