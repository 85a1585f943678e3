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
import {
  BreakerHttpException,
  httpAnswerOf,
  isBreakerHttpError,
  setRetryAfter,
} from './circuit-open-response';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface';
import { resolveOpenErrorMapping, type OpenErrorMapping, type TransportKind } from './open-error-mapping';
import { transportOpenError } from './transports/transport-open-error';

/**
 * The transport face of the breakers, applied by `CircuitBreakerModule` to every route, resolver and
 * microservice handler (WebSocket gateways take no global interceptor in Nest: bind it on the gateway). Under `mapOpenErrors` (all on by default), a breaker error
 * thrown anywhere under the handler, by a nested service call too, becomes the transport's own error: on
 * HTTP a 503 with `Retry-After` (a call timeout a 504), on GraphQL a `SERVICE_UNAVAILABLE` error, on
 * microservices an `RpcException` (gRPC: `UNAVAILABLE`), on WebSockets a `WsException`. On a route whose
 * handler is a `@CircuitBreaker` method it also sets `X-Circuit-Breaker-State`. (The handler itself runs
 * through its breaker and fallback.)
 *
 * @example
 * // Applied automatically, except on gateways (and without the module-wide registration):
 * @UseInterceptors(CircuitBreakerInterceptor)
 * @WebSocketGateway()
 * export class PricingGateway {}
 */
@Injectable()
export class CircuitBreakerInterceptor implements NestInterceptor {
  private readonly mapping: OpenErrorMapping;

  constructor(
    private readonly registry: CircuitBreakerRegistry,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(CIRCUIT_BREAKER_OPTIONS) options?: CircuitBreakerModuleOptions,
  ) {
    this.mapping = resolveOpenErrorMapping(options ?? {});
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType<string>();
    if (type === 'http') return this.interceptHttp(context, next);
    if (this.mapping[type as TransportKind] !== true) return next.handle();
    const handler = context.getHandler();

    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          throwError(() =>
            error instanceof CircuitOpenError ? transportOpenError(error, context, handler) : error,
          ),
        ),
      );
  }

  private interceptHttp(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = specOf(context.getHandler());
    if (spec === undefined && !this.mapping.http) return next.handle();
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
        if (this.mapping.http && isBreakerHttpError(error)) {
          const answer = httpAnswerOf(error, (name) => this.registry.find(name)?.state);
          setRetryAfter(adapter, response, answer);
          return throwError(() => new BreakerHttpException(error, answer));
        }
        return throwError(() => error);
      }),
    );
  }
}
