import { Controller, Get, Injectable, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { metrics, trace } from '@opentelemetry/api';
import {
  BreakerConfigError,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib';
import { SPAN_EVENT } from '../../lib/integrations/otel';
import { startDownstream, status, type Downstream } from '../integrations/downstream';
import { bootApp, PLATFORMS, request, type RunningApp } from '../observability/support';
import { createOtelHarness, enableContext, pointsOf, valueOf, type OtelHarness } from './otel-harness';

class PaymentFailedError extends Error {
  constructor(statusCode: number) {
    super(`payment API answered ${statusCode}`);
    this.name = 'PaymentFailedError';
  }
}

let downstream: Downstream;

@Injectable()
class PaymentClient {
  @CircuitBreaker('payment')
  async charge(): Promise<string> {
    const res = await fetch(`${downstream.origin}/charge`, { method: 'POST' });
    if (res.status >= 500) throw new PaymentFailedError(res.status);
    return res.text();
  }
}

/** Each request runs in a span of its own (what HTTP server instrumentation does), named after `?n=`. */
@Controller('orders')
class OrdersController {
  constructor(private readonly payments: PaymentClient) {}

  @Get()
  checkout(@Query('n') n: string): Promise<string> {
    return trace
      .getTracer('test-http')
      .startActiveSpan(`request ${n}`, (span) => this.payments.charge().finally(() => span.end()));
  }
}

describe.each(PLATFORMS)('otel module option on %s: a breaker tripped over real HTTP', (platform) => {
  let disableContext: () => void;
  let otel: OtelHarness;
  let clock: ManualClock;
  let running: RunningApp | undefined;

  beforeAll(async () => {
    disableContext = enableContext();
    downstream = await startDownstream();
  });
  afterAll(async () => {
    await downstream.close();
    disableContext();
  });
  beforeEach(() => {
    otel = createOtelHarness();
    clock = new ManualClock();
    trace.setGlobalTracerProvider(otel.tracerProvider);
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
    trace.disable();
    await otel.shutdown();
  });

  async function boot(): Promise<RunningApp> {
    running = await bootApp(
      platform,
      {
        clock,
        breakers: { payment: { failureThreshold: 3, halfOpenAfterMs: 5_000, successThreshold: 1 } },
        otel: { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider, callDuration: true },
      },
      { controllers: [OrdersController], providers: [PaymentClient] },
    );
    return running;
  }

  it("collects metrics equal to the snapshot and puts span events on each request's span", async () => {
    const app = await boot();
    downstream.respond(status(500));
    const statuses: number[] = [];
    for (let n = 1; n <= 5; n++) statuses.push((await request(`${app.url}/orders?n=${n}`)).status);
    expect(statuses).toEqual([500, 500, 500, 503, 503]);
    expect(downstream.requests).toBe(3);

    const snapshot = app.registry.get('payment').snapshot();
    let points = await otel.collect();
    const calls = points.get('circuit_breaker.calls');
    const payment = { 'circuit_breaker.name': 'payment' };
    expect({
      success: valueOf(calls, { ...payment, 'circuit_breaker.outcome': 'success' }),
      failure: valueOf(calls, { ...payment, 'error.type': 'PaymentFailedError' }),
      rejected: valueOf(calls, { ...payment, 'circuit_breaker.outcome': 'rejected' }),
      ignored: valueOf(calls, { ...payment, 'circuit_breaker.outcome': 'ignored' }),
      cancelled: valueOf(calls, { ...payment, 'circuit_breaker.outcome': 'cancelled' }),
      throttled: valueOf(calls, { ...payment, 'circuit_breaker.outcome': 'throttled' }),
    }).toEqual({
      success: snapshot.successfulCalls,
      failure: snapshot.failedCalls,
      rejected: snapshot.rejectedCalls,
      ignored: snapshot.ignoredCalls,
      cancelled: snapshot.cancelledCalls,
      throttled: 0,
    });
    expect(snapshot).toMatchObject({ successfulCalls: 0, failedCalls: 3, rejectedCalls: 2, totalCalls: 5 });
    expect(pointsOf(calls, payment).reduce((a, p) => a + p.value, 0)).toBe(snapshot.totalCalls);
    expect(
      valueOf(points.get('circuit_breaker.state'), { ...payment, 'circuit_breaker.state': 'open' }),
    ).toBe(1);
    expect(
      valueOf(points.get('circuit_breaker.transitions'), { ...payment, 'circuit_breaker.to': 'open' }),
    ).toBe(snapshot.openedCount);
    expect(pointsOf(points.get('circuit_breaker.call.duration'), payment).map((p) => p.value)).toEqual([3]);

    expect(otel.eventsOf('request 1')).toEqual([]);
    expect(otel.eventsOf('request 3').map((e) => [e.name, e.attributes['circuit_breaker.to']])).toEqual([
      [SPAN_EVENT.stateChange, 'open'],
    ]);
    for (const n of [4, 5]) {
      expect(otel.eventsOf(`request ${n}`)).toEqual([
        {
          name: SPAN_EVENT.rejected,
          attributes: {
            'circuit_breaker.name': 'payment',
            'circuit_breaker.state': 'open',
            'circuit_breaker.reason': 'open',
          },
        },
      ]);
    }

    // Half-open after 5 s on the manual clock; the downstream recovers; the probe closes the circuit.
    clock.advance(5_000);
    downstream.respond(status(200, 'charged'));
    expect((await request(`${app.url}/orders?n=6`)).body).toBe('charged');
    expect(otel.eventsOf('request 6').map((e) => e.attributes['circuit_breaker.to'])).toEqual([
      'half_open',
      'closed',
    ]);
    points = await otel.collect();
    const transitions = pointsOf(points.get('circuit_breaker.transitions'), payment)
      .map(
        (p) =>
          `${String(p.attributes['circuit_breaker.from'])}->${String(p.attributes['circuit_breaker.to'])}=${p.value}`,
      )
      .sort();
    expect(transitions).toEqual(['closed->open=1', 'half_open->closed=1', 'open->half_open=1']);
    expect(
      valueOf(points.get('circuit_breaker.calls'), { ...payment, 'circuit_breaker.outcome': 'success' }),
    ).toBe(app.registry.get('payment').snapshot().successfulCalls);
    expect(
      valueOf(points.get('circuit_breaker.state'), { ...payment, 'circuit_breaker.state': 'closed' }),
    ).toBe(1);
  });

  it('stops on app.close(): the breakers no longer time calls or report events', async () => {
    const app = await boot();
    const breaker = app.registry.get('payment');
    await app.close();
    running = undefined;
    const reads = jest.spyOn(clock, 'now');
    await breaker.executePromise(() => Promise.resolve('ok'));
    expect(reads).not.toHaveBeenCalled();
    await otel.inSpan('after-close', () =>
      breaker.executePromise(() => Promise.reject(new PaymentFailedError(500))),
    );
    expect(otel.eventsOf('after-close')).toEqual([]);
  });
});

describe('otel module option', () => {
  it('is off by default: no meter is asked for', async () => {
    const otel = createOtelHarness();
    const getMeter = jest.spyOn(otel.meterProvider, 'getMeter');
    metrics.setGlobalMeterProvider(otel.meterProvider);
    try {
      const app = await bootApp('express', { breakers: { payment: {} } });
      await app.close();
      expect(getMeter).not.toHaveBeenCalled();
    } finally {
      metrics.disable();
      await otel.shutdown();
    }
  });

  it('otel: true instruments with the global meter provider', async () => {
    const otel = createOtelHarness();
    metrics.setGlobalMeterProvider(otel.meterProvider);
    try {
      const app = await bootApp('express', { breakers: { payment: {} }, otel: true });
      app.registry.get('payment').executeSync(() => 'ok');
      const calls = (await otel.collect()).get('circuit_breaker.calls');
      expect(
        valueOf(calls, { 'circuit_breaker.name': 'payment', 'circuit_breaker.outcome': 'success' }),
      ).toBe(1);
      await app.close();
    } finally {
      metrics.disable();
      await otel.shutdown();
    }
  });

  it.each([
    [
      { meterprovider: {} },
      /CircuitBreakerModule: unknown option "otel.meterprovider" \(known: meterProvider, tracerProvider, callDuration\)/,
    ],
    [
      'yes',
      /CircuitBreakerModule: otel must be true, false or \{ meterProvider\?, tracerProvider\?, callDuration\? \}, got "yes"/,
    ],
    [{ meterProvider: {} }, /meterProvider must be an OpenTelemetry MeterProvider/],
  ])('fails bootstrap on otel: %p with a message naming it', async (otelOption, message) => {
    const compile = async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CircuitBreakerModule.forRoot({ otel: otelOption as never })],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false, abortOnError: false });
      try {
        await app.init();
      } finally {
        await app.close();
      }
    };
    await expect(compile()).rejects.toThrow(BreakerConfigError);
    await expect(compile()).rejects.toThrow(message);
  });

  it('takes otel from a forRootAsync factory', async () => {
    const otel = createOtelHarness();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          CircuitBreakerModule.forRootAsync({
            useFactory: () => ({ breakers: { payment: {} }, otel: { meterProvider: otel.meterProvider } }),
          }),
        ],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false, abortOnError: false });
      await app.init();
      app
        .get(CircuitBreakerRegistry)
        .get('payment')
        .executeSync(() => 'ok');
      const calls = (await otel.collect()).get('circuit_breaker.calls');
      expect(
        valueOf(calls, { 'circuit_breaker.name': 'payment', 'circuit_breaker.outcome': 'success' }),
      ).toBe(1);
      await app.close();
    } finally {
      await otel.shutdown();
    }
  });

  it('exposes the registry as usual alongside it', async () => {
    const app = await bootApp('fastify', { otel: { callDuration: false, tracerProvider: false } });
    expect(app.registry).toBeInstanceOf(CircuitBreakerRegistry);
    await app.close();
  });
});
