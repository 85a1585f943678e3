import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { CircuitOpenError } from '../core/errors';
import { CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker.constants';
import { circuitOpenBody, setRetryAfter } from './circuit-open-response';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface';

/**
 * Answers a `CircuitOpenError` that reached the HTTP layer with `503 Service Unavailable`, `Retry-After`
 * and the JSON body `{ statusCode, error, message, breaker, state }`. `CircuitBreakerModule` registers it
 * app-wide (so errors from guards and pipes are covered too) unless `mapOpenToHttp` is false; with
 * `mapOpenToHttp: false` it hands the error to Nest's default handling.
 *
 * @example
 * // Without the module-wide registration:
 * app.useGlobalFilters(new CircuitOpenExceptionFilter(app.get(HttpAdapterHost)));
 */
@Catch(CircuitOpenError)
export class CircuitOpenExceptionFilter implements ExceptionFilter<CircuitOpenError> {
  private readonly mapOpen: boolean;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(CIRCUIT_BREAKER_OPTIONS) options?: CircuitBreakerModuleOptions,
  ) {
    this.mapOpen = options?.mapOpenToHttp !== false;
  }

  catch(error: CircuitOpenError, host: ArgumentsHost): void | Observable<never> {
    // RPC and WebSocket transports have their own error channels.
    if (host.getType() !== 'http') return throwError(() => error);
    const adapter = this.adapterHost.httpAdapter;
    if (!this.mapOpen) {
      new BaseExceptionFilter(adapter).catch(error, host);
      return;
    }
    const response: unknown = host.switchToHttp().getResponse();
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    setRetryAfter(adapter, response, error);
    adapter.reply(response, circuitOpenBody(error), 503);
  }
}
