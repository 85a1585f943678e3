// The whole story on a real app and a real downstream: trip, 503 + Retry-After, half-open, recovery.
import { Controller, Get, Inject, Injectable, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitState,
  ManualClock,
  breakerSignal,
} from '../../lib';
import { bootApp, PLATFORMS } from './support/apps';
import { getJson, startDownstream, type Downstream } from './support/downstream';

const DOWNSTREAM = Symbol('DOWNSTREAM');

@Injectable()
class PaymentService {
  constructor(@Inject(DOWNSTREAM) private readonly downstream: Downstream) {}

  @CircuitBreaker('payment')
  async charge(amount: number): Promise<unknown> {
    // The breaker's signal aborts the request when callTimeoutMs elapses.
    return getJson(`${this.downstream.url}/charge?amount=${amount}`, breakerSignal());
  }
}

@Controller()
class ShopController {
  constructor(
    private readonly payments: PaymentService,
    @Inject(DOWNSTREAM) private readonly downstream: Downstream,
  ) {}

  /** Names no breaker: the open circuit of the nested service call still becomes a 503. */
  @Get('pay')
  pay(): Promise<unknown> {
    return this.payments.charge(10);
  }

  @Get('quote')
  @CircuitBreaker('quote')
  quote(): Promise<unknown> {
    return getJson(`${this.downstream.url}/quote`);
  }

  @Get('quote-or-cached')
  @CircuitBreaker('quote', { fallback: 'cachedQuote' })
  quoteOrCached(): Promise<unknown> {
    return getJson(`${this.downstream.url}/quote`);
  }

  cachedQuote(error: unknown): { cached: true; because: string } {
    return { cached: true, because: (error as Error).name };
  }
}

describe.each(PLATFORMS)('a decorated service behind a real route (%s)', (platform) => {
  let downstream: Downstream;
  let clock: ManualClock;
  let app: INestApplication<App>;
  let registry: CircuitBreakerRegistry;

  beforeEach(async () => {
    downstream = await startDownstream();
    clock = new ManualClock(1_000_000);
    app = await bootApp(platform, {
      imports: [
        CircuitBreakerModule.forRoot({
          clock,
          breakers: {
            payment: { failureThreshold: 2, halfOpenAfterMs: 30_000, successThreshold: 1 },
            quote: { failureThreshold: 2, halfOpenAfterMs: 10_000, successThreshold: 1 },
          },
        }),
      ],
      controllers: [ShopController],
      providers: [PaymentService, { provide: DOWNSTREAM, useValue: downstream }],
    });
    registry = app.get(CircuitBreakerRegistry);
  });

  afterEach(async () => {
    await app.close();
    await downstream.close();
  });

  it('trips, answers 503 with Retry-After without calling the downstream, half-opens on time and closes on a good probe', async () => {
    const server = app.getHttpServer();
    await request(server).get('/pay').expect(200, { ok: true, path: '/charge?amount=10' });

    downstream.mode = 'fail';
    await request(server).get('/pay').expect(500);
    await request(server).get('/pay').expect(500);
    expect(registry.get('payment').state).toBe(CircuitState.OPEN);

    const hits = downstream.hits;
    const open = await request(server).get('/pay').expect(503);
    expect(open.headers['retry-after']).toBe('30');
    expect(open.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'circuit breaker "payment" is open; retry in 30000 ms',
      breaker: 'payment',
      state: 'open',
    });
    expect(downstream.hits).toBe(hits);

    clock.advance(29_500);
    const almost = await request(server).get('/pay').expect(503);
    expect(almost.headers['retry-after']).toBe('1'); // 500 ms left, rounded up

    clock.advance(500);
    downstream.mode = 'ok';
    await request(server).get('/pay').expect(200);
    expect(downstream.hits).toBe(hits + 1);
    expect(registry.get('payment').snapshot()).toMatchObject({ state: 'closed', openedCount: 1 });
  });

  it('re-opens when the half-open probe fails', async () => {
    const server = app.getHttpServer();
    downstream.mode = 'fail';
    await request(server).get('/pay').expect(500);
    await request(server).get('/pay').expect(500);
    clock.advance(30_000);
    await request(server).get('/pay').expect(500); // the probe reached the downstream and failed
    const reopened = await request(server).get('/pay').expect(503);
    expect(reopened.headers['retry-after']).toBe('30');
    expect(registry.get('payment').snapshot().openedCount).toBe(2);
  });

  it('answers 503 with Retry-After: 1 while the half-open probe is in flight', async () => {
    const server = app.getHttpServer();
    downstream.mode = 'fail';
    await request(server).get('/pay').expect(500);
    await request(server).get('/pay').expect(500);
    clock.advance(30_000);

    downstream.mode = 'hang';
    const probe = request(server)
      .get('/pay')
      .then((res) => res);
    await downstream.whenHeld(1);
    const busy = await request(server).get('/pay').expect(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.body).toMatchObject({ breaker: 'payment', state: 'half_open' });

    downstream.release();
    expect((await probe).status).toBe(200);
    expect(registry.get('payment').state).toBe(CircuitState.CLOSED);
  });

  it('sends no Retry-After for a circuit forced open', async () => {
    registry.get('payment').forceOpen();
    const res = await request(app.getHttpServer()).get('/pay').expect(503);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.body).toMatchObject({ breaker: 'payment', state: 'forced_open' });
  });

  it('trips on a hanging downstream through callTimeoutMs, aborting the request', async () => {
    registry.register('payment', { failureThreshold: 1, halfOpenAfterMs: 30_000, callTimeoutMs: 50 });
    downstream.mode = 'hang';
    await request(app.getHttpServer())
      .get('/pay')
      .expect(504, /"breaker":"payment"/);
    expect(registry.get('payment').snapshot()).toMatchObject({ state: 'open', timeouts: 1 });
    await request(app.getHttpServer()).get('/pay').expect(503);
    expect(downstream.hits).toBe(1);
  });

  it('names the state in X-Circuit-Breaker-State on routes that name a breaker, and serves their fallback', async () => {
    const server = app.getHttpServer();
    const ok = await request(server).get('/quote').expect(200);
    expect(ok.headers['x-circuit-breaker-state']).toBe('closed');
    const plain = await request(server).get('/pay').expect(200);
    expect(plain.headers['x-circuit-breaker-state']).toBeUndefined();

    downstream.mode = 'fail';
    const first = await request(server).get('/quote').expect(500);
    expect(first.headers['x-circuit-breaker-state']).toBe('closed');
    const second = await request(server).get('/quote').expect(500);
    expect(second.headers['x-circuit-breaker-state']).toBe('open');

    const open = await request(server).get('/quote').expect(503);
    expect(open.headers['x-circuit-breaker-state']).toBe('open');
    expect(open.headers['retry-after']).toBe('10');

    const fallback = await request(server).get('/quote-or-cached').expect(200);
    expect(fallback.body).toEqual({ cached: true, because: 'CircuitOpenError' });
    expect(fallback.headers['x-circuit-breaker-state']).toBe('open');

    clock.advance(10_000);
    downstream.mode = 'ok';
    const healed = await request(server).get('/quote-or-cached').expect(200);
    expect(healed.body).toEqual({ ok: true, path: '/quote' });
    expect(healed.headers['x-circuit-breaker-state']).toBe('closed');
  });
});
