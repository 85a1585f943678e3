import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { BulkheadFullError, CallTimeoutError, CircuitOpenError } from '../core/errors';
import { CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker.constants';
import { CircuitBreakerRegistry } from './circuit-breaker.registry';
import { httpAnswerOf, setRetryAfter, type BreakerHttpError } from './circuit-open-response';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface';
import { resolveOpenErrorMapping, type OpenErrorMapping, type TransportKind } from './open-error-mapping';
import { defaultTransportHandling } from './transports/default-transport-filters';
import { transportOpenError } from './transports/transport-open-error';

/**
 * Answers breaker errors that reach a transport outside the interceptor (thrown by guards and pipes, or
 * by a handler the interceptor does not wrap), under `mapOpenErrors`:
 * - HTTP: a `CircuitOpenError` becomes `503 Service Unavailable` with `Retry-After`, a `CallTimeoutError`
 *   `504 Gateway Timeout`, a `BulkheadFullError` `503` with `Retry-After: 1`; JSON body
 *   `{ statusCode, error, message, breaker, state }`.
 * - GraphQL, microservices (gRPC included) and WebSockets: the open circuit becomes the transport's own
 *   error (see README, "Transports beyond HTTP").
 *
 * `CircuitBreakerModule` registers it app-wide unless the HTTP mapping is off (then breaker errors reach the
 * application's own filters untouched); a transport whose mapping is off gets Nest's default handling.
 *
 * @example
 * // Without the module-wide registration:
 * app.useGlobalFilters(new CircuitOpenExceptionFilter(app.get(HttpAdapterHost)));
 */
@Catch(CircuitOpenError, CallTimeoutError, BulkheadFullError)
export class CircuitOpenExceptionFilter implements ExceptionFilter<BreakerHttpError> {
  private readonly mapping: OpenErrorMapping;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(CIRCUIT_BREAKER_OPTIONS) options?: CircuitBreakerModuleOptions,
    @Optional() private readonly registry?: CircuitBreakerRegistry,
  ) {
    this.mapping = resolveOpenErrorMapping(options ?? {});
  }

  catch(error: BreakerHttpError, host: ArgumentsHost): void | Observable<never> {
    const type = host.getType<string>();
    if (type === 'http') return this.answerHttp(error, host);
    if (this.mapping[type as TransportKind] === true && error instanceof CircuitOpenError)
      return defaultTransportHandling(transportOpenError(error, host), host);
    // Timeouts and full bulkheads have no mapping outside HTTP: Nest's own handling of the transport.
    return defaultTransportHandling(error, host);
  }

  private answerHttp(error: BreakerHttpError, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!this.mapping.http) {
      new BaseExceptionFilter(adapter).catch(error, host);
      return;
    }
    const response: unknown = host.switchToHttp().getResponse();
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    const answer = httpAnswerOf(error, (name) => this.registry?.find(name)?.state);
    setRetryAfter(adapter, response, answer);
    adapter.reply(response, answer.body, answer.status);
  }
}
