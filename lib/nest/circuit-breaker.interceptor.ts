import {
  Inject,
  Injectable,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { catchError, tap, throwError, type Observable } from 'rxjs';
import { CircuitOpenError } from '../core/errors';
import { specOf } from './circuit-breaker-method';
import { CIRCUIT_BREAKER_OPTIONS, CIRCUIT_BREAKER_STATE_HEADER } from './circuit-breaker.constants';
import { CircuitBreakerRegistry } from './circuit-breaker.registry';
import { CircuitOpenHttpException, setRetryAfter } from './circuit-open-response';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface';

/**
 * The HTTP face of the breakers, applied by `CircuitBreakerModule` to every route. On a route whose handler
 * is a `@CircuitBreaker` method it sets `X-Circuit-Breaker-State` (the handler itself runs through its
 * breaker and fallback). With `mapOpenToHttp` (the default), a `CircuitOpenError` thrown anywhere under the
 * route, by a nested service call too, becomes a 503 with `Retry-After`.
 *
 * @example
 * // Applied automatically; to apply it without the module-wide registration:
 * @UseInterceptors(CircuitBreakerInterceptor)
 * @Controller('orders')
 * export class OrdersController {}
 */
@Injectable()
export class CircuitBreakerInterceptor implements NestInterceptor {
  private readonly mapOpen: boolean;

  constructor(
    private readonly registry: CircuitBreakerRegistry,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(CIRCUIT_BREAKER_OPTIONS) options?: CircuitBreakerModuleOptions,
  ) {
    this.mapOpen = options?.mapOpenToHttp !== false;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const spec = specOf(context.getHandler());
    if (spec === undefined && !this.mapOpen) return next.handle();
    const response: unknown = context.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    // Only a route whose handler has a breaker gets the state header (and the operator that sets it).
    const stamp =
      spec === undefined
        ? undefined
        : (): void => {
            if (adapter.isHeadersSent(response)) return;
            const breaker = this.registry.find(spec.name);
            if (breaker !== undefined)
              adapter.setHeader(response, CIRCUIT_BREAKER_STATE_HEADER, breaker.state);
          };
    const handled = stamp === undefined ? next.handle() : next.handle().pipe(tap({ next: stamp }));
    return handled.pipe(
      catchError((error: unknown) => {
        stamp?.();
        if (this.mapOpen && error instanceof CircuitOpenError) {
          setRetryAfter(adapter, response, error);
          return throwError(() => new CircuitOpenHttpException(error));
        }
        return throwError(() => error);
      }),
    );
  }
}
