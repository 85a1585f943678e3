// The HTTP face of keyed breakers: family view, /:name/keys, ?key= on reads and control routes, Prometheus.
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { CircuitBreakerModule, CircuitBreakerRegistry, CircuitState, ManualClock } from '../../lib';
import { bootApp, PLATFORMS } from './support/apps';

const fail = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('ok');

describe.each(PLATFORMS)('keyed breakers over HTTP (%s)', (platform) => {
  let app: INestApplication<App>;
  let registry: CircuitBreakerRegistry;

  beforeEach(async () => {
    app = await bootApp(platform, {
      imports: [
        CircuitBreakerModule.forRoot({
          clock: new ManualClock(5_000),
          http: { control: true, allowUnguardedControl: true },
          breakers: {
            payment: { failureThreshold: 1, halfOpenAfterMs: 30_000 },
            tiny: { keys: { metrics: 'key' } },
          },
        }),
      ],
    });
    registry = app.get(CircuitBreakerRegistry);
    await registry.get('payment').executePromise(ok);
    await registry
      .get('payment', 'merchant/1')
      .executePromise(fail)
      .catch(() => undefined);
    await registry
      .get('payment', 'merchant/1')
      .executePromise(ok)
      .catch(() => undefined);
    await registry.get('payment', 'm2').executePromise(ok);
    await registry.get('tiny', 'a b"c').executePromise(ok);
  });

  afterEach(() => app.close());

  it('GET /circuit-breakers shows each family once, with counters of every call and its keys by state', async () => {
    const res = await request(app.getHttpServer()).get('/circuit-breakers').expect(200);
    expect(Object.keys(res.body as object).sort()).toEqual(['payment', 'tiny']);
    expect(res.body.payment).toMatchObject({
      name: 'payment',
      state: 'closed',
      totalCalls: 4,
      successfulCalls: 2,
      failedCalls: 1,
      rejectedCalls: 1,
      keys: { alive: 2, open: 1, halfOpen: 0, evicted: 0 },
    });
    expect(res.body.payment.key).toBeUndefined();
    const one = await request(app.getHttpServer()).get('/circuit-breakers/payment').expect(200);
    expect(one.body).toMatchObject({ totalCalls: 4, keys: { alive: 2, open: 1 } });
  });

  it('GET /circuit-breakers/:name?key=K answers one key (keys may hold /), 404 for a key not alive', async () => {
    const res = await request(app.getHttpServer())
      .get(`/circuit-breakers/payment?key=${encodeURIComponent('merchant/1')}`)
      .expect(200);
    expect(res.body).toMatchObject({
      name: 'payment',
      key: 'merchant/1',
      state: 'open',
      failedCalls: 1,
      retryAfterMs: 30_000,
    });
    const missing = await request(app.getHttpServer()).get('/circuit-breakers/payment?key=nope').expect(404);
    expect(missing.body.message).toBe(
      'circuit breaker "payment" has no key "nope" alive (never used, evicted or removed)',
    );
    await request(app.getHttpServer()).get('/circuit-breakers/unknown?key=x').expect(404);
    // Reading a key never creates it.
    expect(registry.keys('payment').sort()).toEqual(['m2', 'merchant/1']);
    const twice = await request(app.getHttpServer()).get('/circuit-breakers/payment?key=a&key=b').expect(400);
    expect(twice.body.message).toBe('invalid key: expected one string, got an array of 2');
  });

  it('GET /circuit-breakers/:name/keys lists keyed snapshots, filtered by state and limited', async () => {
    const all = await request(app.getHttpServer()).get('/circuit-breakers/payment/keys').expect(200);
    expect((all.body as { key: string }[]).map((s) => s.key)).toEqual(['merchant/1', 'm2']);
    const open = await request(app.getHttpServer())
      .get('/circuit-breakers/payment/keys?state=open&limit=100')
      .expect(200);
    expect(open.body).toHaveLength(1);
    expect(open.body[0]).toMatchObject({ name: 'payment', key: 'merchant/1', state: 'open' });
    const limited = await request(app.getHttpServer())
      .get('/circuit-breakers/payment/keys?limit=1')
      .expect(200);
    expect(limited.body).toHaveLength(1);

    const badState = await request(app.getHttpServer())
      .get('/circuit-breakers/payment/keys?state=broken')
      .expect(400);
    expect(badState.body.message).toBe(
      'invalid state: must be one of closed, open, half_open, forced_open, disabled, metrics_only, got "broken"',
    );
    const badLimit = await request(app.getHttpServer())
      .get('/circuit-breakers/payment/keys?limit=0')
      .expect(400);
    expect(badLimit.body.message).toBe('invalid limit: must be 1 to 10000, got "0"');
    await request(app.getHttpServer()).get('/circuit-breakers/nope/keys').expect(404);
  });

  it('control routes act on one key with ?key=', async () => {
    const server = app.getHttpServer();
    const reset = await request(server)
      .post(`/circuit-breakers/payment/reset?key=${encodeURIComponent('merchant/1')}`)
      .expect(200);
    expect(reset.body).toMatchObject({ key: 'merchant/1', state: 'closed' });
    const forced = await request(server).post('/circuit-breakers/payment/force-open?key=m2').expect(200);
    expect(forced.body).toMatchObject({ key: 'm2', state: 'forced_open' });
    expect(registry.get('payment', 'm2').state).toBe(CircuitState.FORCED_OPEN);
    expect(registry.get('payment').state).toBe(CircuitState.CLOSED);
    await request(server).post('/circuit-breakers/payment/disable?key=nope').expect(404);
  });

  it('Prometheus gets family totals and keys{name,state}; a series per key only with keys.metrics: key', async () => {
    const res = await request(app.getHttpServer()).get('/circuit-breakers/metrics').expect(200);
    const text = res.text;
    expect(text).toContain('circuit_breaker_calls_total{name="payment",kind="successful"} 2');
    expect(text).toContain('circuit_breaker_calls_total{name="payment",kind="rejected"} 1');
    expect(text).toContain('circuit_breaker_keys{name="payment",state="open"} 1');
    expect(text).toContain('circuit_breaker_keys{name="payment",state="closed"} 1');
    expect(text).toContain('circuit_breaker_keys{name="payment",state="half_open"} 0');
    expect(text).toContain('circuit_breaker_keys_evicted_total{name="payment"} 0');
    expect(text).not.toMatch(/name="payment",key=/);
    expect(text).toContain('circuit_breaker_state{name="tiny",key="a b\\"c",state="closed"} 1');
    expect(text).toContain('circuit_breaker_calls_total{name="tiny",key="a b\\"c",kind="successful"} 1');
  });
});
