import {
  Controller,
  Get,
  Header,
  Inject,
  Param,
  Res,
  ServiceUnavailableException,
  Sse,
  StreamableFile,
  UseGuards,
  type MessageEvent,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { breakerOr404 } from './breaker-lookup';
import { DASHBOARD_HEADERS, DASHBOARD_HTML } from './dashboard/page';
import { CircuitBreakerObservability } from './observability.service';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus/format';
import { BreakerNamePipe } from './route-inputs';
import { toWireEvent, type WireBreakerEvent } from './wire-event';

/** Seconds a client turned away by `events.maxClients` is asked to wait (`Retry-After`). */
export const EVENT_STREAM_RETRY_AFTER_S = 5;

/**
 * `GET /<path>/metrics`, `/events`, `/dashboard` and `/:name/events`, mounted at `http.path` behind
 * `http.guards`. It must be registered before the controller holding `GET /:name`, so that Express
 * matches these fixed paths first (see `createCircuitBreakerControllers`).
 */
export function createObservabilityController(http: ResolvedHttpOptions): Type<unknown> {
  @Controller(http.path)
  @UseGuards(...http.guards)
  class CircuitBreakerObservabilityController {
    constructor(
      @Inject(CircuitBreakerObservability) private readonly observability: CircuitBreakerObservability,
      @Inject(CircuitBreakerRegistry) private readonly registry: CircuitBreakerRegistry,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    ) {}

    /**
     * Prometheus text exposition of every breaker. Sent as bytes: Express would rewrite the Content-Type of
     * a string body (moving `charset` before `version`).
     */
    @Get('metrics')
    @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
    @Header('Cache-Control', 'no-store')
    metrics(): StreamableFile {
      const body = Buffer.from(this.observability.renderMetrics(), 'utf8');
      return new StreamableFile(body, { type: PROMETHEUS_CONTENT_TYPE, length: body.length });
    }

    /**
     * Server-sent events: one `state_change` event per transition, and heartbeat comments. Past
     * `events.maxClients` open streams: 503 with `Retry-After` (the headers are not sent yet when the
     * stream is subscribed, so the exception filter still answers).
     */
    @Sse('events')
    events(@Res({ passthrough: true }) response: unknown): Observable<MessageEvent> {
      const { maxClients } = this.observability;
      return this.observability.events({
        exposeErrorMessages: http.exposeErrorMessages,
        onFull: () =>
          this.adapterHost.httpAdapter.setHeader(response, 'Retry-After', String(EVENT_STREAM_RETRY_AFTER_S)),
        full: () =>
          new ServiceUnavailableException(
            `too many event streams: at most ${maxClients} may be open at once (events.maxClients); retry in ${EVENT_STREAM_RETRY_AFTER_S} s`,
          ),
      });
    }

    /** The live dashboard page. */
    @Get('dashboard')
    @Header('Content-Type', DASHBOARD_HEADERS['Content-Type'])
    @Header('Cache-Control', DASHBOARD_HEADERS['Cache-Control'])
    @Header('X-Content-Type-Options', DASHBOARD_HEADERS['X-Content-Type-Options'])
    @Header('Content-Security-Policy', DASHBOARD_HEADERS['Content-Security-Policy'])
    dashboard(): string {
      return DASHBOARD_HTML;
    }

    /** The breaker's recent notable events, oldest first; 404 for a name the registry does not hold. */
    @Get(':name/events')
    recentEvents(@Param('name', BreakerNamePipe) name: string): WireBreakerEvent[] {
      return breakerOr404(this.registry, name)
        .recentEvents()
        .map((event) => toWireEvent(event, http.exposeErrorMessages));
    }
  }
  return CircuitBreakerObservabilityController;
}
