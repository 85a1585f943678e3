import {
  Controller,
  Get,
  Header,
  Inject,
  Param,
  Sse,
  StreamableFile,
  UseGuards,
  type MessageEvent,
  type Type,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import { CircuitBreakerObservability } from './observability.service';
import { breakerOr404 } from './breaker-lookup';
import { DASHBOARD_HEADERS, DASHBOARD_HTML } from './dashboard/page';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus/format';
import { toWireEvent, type WireBreakerEvent } from './wire-event';

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

    /** Server-sent events: one `state_change` event per transition, and heartbeat comments. */
    @Sse('events')
    events(): Observable<MessageEvent> {
      return this.observability.events();
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
    recentEvents(@Param('name') name: string): WireBreakerEvent[] {
      return breakerOr404(this.registry, name).recentEvents().map(toWireEvent);
    }
  }
  return CircuitBreakerObservabilityController;
}
