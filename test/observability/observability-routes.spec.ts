import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { Registry, register as defaultRegistry } from 'prom-client';
import { CircuitState, ManualClock } from '../../lib';
import { PLATFORMS, bootApp, request, type RunningApp } from './support';

class Boom extends Error {}

function families(text: string): Map<string, ParsedFamily> {
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

function sampleValue(family: ParsedFamily | undefined, labels: Record<string, string>): number | undefined {
  const found = family?.metrics.find(
    (m) =>
      Object.keys(m.labels ?? {}).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return found?.value === undefined ? undefined : Number(found.value);
}

/** Lets a request through only with `x-ops: yes`. */
@Injectable()
class OpsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return req.headers['x-ops'] === 'yes';
  }
}

describe.each(PLATFORMS)('observability routes on %s', (platform) => {
  let running: RunningApp | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('serves Prometheus text at /circuit-breakers/metrics with the exposition content type', async () => {
    running = await bootApp(platform, {
      clock: new ManualClock(),
      defaults: { failureThreshold: 2 },
      breakers: { payment: {}, metrics: {}, 'say "hi"\nback\\slash': {} },
      metrics: { promRegistry: false },
    });
    const payment = running.registry.get('payment');
    payment.executeSync(() => 'ok');
    for (let i = 0; i < 2; i++)
      expect(() =>
        payment.executeSync(() => {
          throw new Boom();
        }),
      ).toThrow(Boom);

    const res = await request(`${running.url}/circuit-breakers/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const parsed = families(res.body);
    expect(sampleValue(parsed.get('circuit_breaker_state'), { name: 'payment', state: 'open' })).toBe(1);
    expect(sampleValue(parsed.get('circuit_breaker_calls_total'), { name: 'payment', kind: 'failed' })).toBe(
      2,
    );
    expect(
      sampleValue(parsed.get('circuit_breaker_calls_total'), { name: 'payment', kind: 'successful' }),
    ).toBe(1);
    expect(
      sampleValue(parsed.get('circuit_breaker_transitions_total'), {
        name: 'payment',
        from: 'closed',
        to: 'open',
      }),
    ).toBe(1);
    expect(
      sampleValue(parsed.get('circuit_breaker_state'), { name: 'say "hi"\nback\\slash', state: 'closed' }),
    ).toBe(1);
    // A breaker named "metrics" does not shadow the route, and is still listed.
    expect(sampleValue(parsed.get('circuit_breaker_state'), { name: 'metrics', state: 'closed' })).toBe(1);
    const list = await request(`${running.url}/circuit-breakers`);
    expect(Object.keys(JSON.parse(list.body) as object)).toEqual(
      expect.arrayContaining(['payment', 'metrics', 'say "hi"\nback\\slash']),
    );
  });

  it("registers the same metrics in prom-client's default registry, and removes them on close", async () => {
    running = await bootApp(platform, { breakers: { inventory: {} } });
    running.registry.get('inventory').forceOpen();
    const text = await defaultRegistry.metrics();
    const parsed = families(text);
    expect(
      sampleValue(parsed.get('circuit_breaker_state'), { name: 'inventory', state: 'forced_open' }),
    ).toBe(1);
    expect(parsed.get('circuit_breaker_calls_total')?.type).toBe('COUNTER');
    expect(parsed.get('circuit_breaker_call_duration_seconds')?.type).toBe('HISTOGRAM');
    await running.close();
    running = undefined;
    expect(defaultRegistry.getSingleMetric('circuit_breaker_state')).toBeUndefined();
  });

  it('uses a prom-client registry passed in metrics.promRegistry, with the configured prefix', async () => {
    const own = new Registry();
    running = await bootApp(platform, {
      breakers: { search: {} },
      metrics: { promRegistry: own, prefix: 'shop_cb_', buckets: [0.1, 1] },
    });
    running.registry.get('search').executeSync(() => 'hit');
    const parsed = families(await own.metrics());
    expect(sampleValue(parsed.get('shop_cb_calls_total'), { name: 'search', kind: 'successful' })).toBe(1);
    expect(defaultRegistry.getSingleMetric('shop_cb_calls_total')).toBeUndefined();
    expect(defaultRegistry.getSingleMetric('circuit_breaker_calls_total')).toBeUndefined();
    const route = families((await request(`${running.url}/circuit-breakers/metrics`)).body);
    expect(sampleValue(route.get('shop_cb_calls_total'), { name: 'search', kind: 'successful' })).toBe(1);
  });

  it("answers GET /:name/events with the breaker's recent events, bounded by recentEventsSize", async () => {
    const circular: Record<string, unknown> = { reason: 'upstream said no' };
    circular.self = circular;
    running = await bootApp(platform, {
      clock: new ManualClock(5_000),
      defaults: { failureThreshold: 100, recentEventsSize: 3 },
      breakers: { payment: {} },
      metrics: { promRegistry: false },
    });
    const payment = running.registry.get('payment');
    const boom = Object.assign(new Boom('card declined'), { code: 'E_DECLINED' });
    expect(() =>
      payment.executeSync(() => {
        throw new Boom('first');
      }),
    ).toThrow(Boom);
    expect(() =>
      payment.executeSync(() => {
        throw boom;
      }),
    ).toThrow(Boom);
    expect(() =>
      payment.executeSync(() => {
        throw circular;
      }),
    ).toThrow();
    payment.forceOpen();

    const res = await request(`${running.url}/circuit-breakers/payment/events`);
    expect(res.status).toBe(200);
    const events = JSON.parse(res.body) as Record<string, unknown>[];
    expect(events).toEqual([
      {
        type: 'failure',
        name: 'payment',
        at: 5_000,
        // The message stays in the process unless http.exposeErrorMessages (see secure-defaults.spec.ts).
        error: { type: 'Error', code: 'E_DECLINED' },
      },
      {
        type: 'failure',
        name: 'payment',
        at: 5_000,
        error: { type: 'object' },
      },
      {
        type: 'state_change',
        name: 'payment',
        at: 5_000,
        from: 'closed',
        to: 'forced_open',
        reason: 'forced open',
      },
    ]);
  });

  it('answers 404 JSON for an unknown name and does not create the breaker', async () => {
    running = await bootApp(platform, { metrics: { promRegistry: false } });
    const res = await request(`${running.url}/circuit-breakers/nobody/events`);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toMatchObject({
      statusCode: 404,
      message: 'no circuit breaker named "nobody"',
    });
    expect(running.registry.has('nobody')).toBe(false);
  });

  it('serves the dashboard as one self-contained page with a strict Content-Security-Policy', async () => {
    running = await bootApp(platform, { metrics: { promRegistry: false } });
    const res = await request(`${running.url}/circuit-breakers/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(res.body.startsWith('<!doctype html>')).toBe(true);
    // Nothing is loaded from anywhere else: no external script, stylesheet or font.
    expect(res.body).not.toMatch(
      /<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
    );
  });

  it('protects every observability route with http.guards', async () => {
    running = await bootApp(
      platform,
      { breakers: { payment: {} }, http: { guards: [OpsGuard] }, metrics: { promRegistry: false } },
      { providers: [OpsGuard] },
    );
    for (const path of ['metrics', 'events', 'dashboard', 'payment/events']) {
      const denied = await request(`${running.url}/circuit-breakers/${path}`);
      expect({ path, status: denied.status }).toEqual({ path, status: 403 });
    }
    for (const path of ['metrics', 'dashboard', 'payment/events']) {
      const allowed = await request(`${running.url}/circuit-breakers/${path}`, {
        headers: { 'x-ops': 'yes' },
      });
      expect({ path, status: allowed.status }).toEqual({ path, status: 200 });
    }
  });

  it('fails bootstrap on bad metrics and events options, naming the option', async () => {
    await expect(bootApp(platform, { metrics: { prefix: 'my-app' } })).rejects.toThrow(
      /CircuitBreakerModule: metrics\.prefix must be a valid Prometheus metric name prefix.*"my-app"/,
    );
    await expect(bootApp(platform, { metrics: { buckets: [1, 0.5] } })).rejects.toThrow(
      /metrics\.buckets must be strictly increasing, got 1 then 0\.5/,
    );
    await expect(
      bootApp(platform, { metrics: { bucket: [1] } as unknown as { buckets: number[] } }),
    ).rejects.toThrow(/unknown option "metrics\.bucket"/);
    await expect(bootApp(platform, { events: { heartbeatMs: 0 } })).rejects.toThrow(
      /events\.heartbeatMs must be a whole number of ms >= 1, got 0/,
    );
    await expect(bootApp(platform, { metrics: { promRegistry: {} as never } })).rejects.toThrow(
      /metrics\.promRegistry must be a prom-client Registry/,
    );
  });

  it('keeps GET /circuit-breakers/:name working next to the fixed routes', async () => {
    running = await bootApp(platform, { breakers: { dashboard: {} }, metrics: { promRegistry: false } });
    const one = await request(`${running.url}/circuit-breakers/dashboard/events`);
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body)).toEqual([]);
    running.registry.get('dashboard').forceOpen();
    const list = JSON.parse((await request(`${running.url}/circuit-breakers`)).body) as Record<
      string,
      { state: string }
    >;
    expect(list.dashboard.state).toBe(CircuitState.FORCED_OPEN);
  });
});
