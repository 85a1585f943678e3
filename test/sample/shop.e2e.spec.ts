import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ManualClock } from '../../lib';
import { AppModule } from '../../sample/app.module';

// The sample shop end to end over real HTTP, on Express: its own payment and inventory APIs run as real
// local servers; the breakers read a ManualClock so half-open timing is driven by the test.
// The steps build on each other (one shop, one story), so they run in order.

type Snapshot = Record<string, unknown> & { state: string };

describe('sample shop (Express)', () => {
  let app: INestApplication<App>;
  let clock: ManualClock;
  let catalogueTools: { servedAt: string; products: unknown[] };

  const http = () => request(app.getHttpServer());
  const snapshot = async (name: string): Promise<Snapshot> =>
    (await http().get(`/circuit-breakers/${name}`).expect(200)).body as Snapshot;
  const downstream = async (name: 'payment' | 'inventory') =>
    ((await http().get('/chaos').expect(200)).body as Record<string, Record<string, number | string>>)[name];
  const order = (sku = 'hammer') => http().post('/orders').send({ sku, quantity: 1 });

  /** Lets the app's own I/O run until `done()` holds (no fixed waits; gives up after many turns). */
  const until = async (done: () => boolean | Promise<boolean>, what: string) => {
    for (let turn = 0; turn < 5_000; turn++) {
      if (await done()) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    throw new Error(`gave up waiting for ${what}`);
  };

  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const moduleRef = await Test.createTestingModule({
      // A short real timeout for the hang step (callTimeoutMs uses real timers).
      imports: [AppModule.forRoot({ clock, breakers: { payment: { callTimeoutMs: 250 } } })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('lists every configured breaker, closed, before any call', async () => {
    const all = (await http().get('/circuit-breakers').expect(200)).body as Record<string, Snapshot>;
    expect(Object.keys(all).sort()).toEqual(['catalogue', 'inventory', 'payment']);
    for (const name of ['catalogue', 'inventory', 'payment']) expect(all[name].state).toBe('closed');
  });

  it('places a paid order while everything is healthy', async () => {
    const res = await order().expect(201);
    expect(res.body).toMatchObject({ id: 'o_1', sku: 'hammer', status: 'paid', payment: { status: 'paid' } });
    await http()
      .get('/payments/o_1')
      .expect(200, /"orderId":"o_1"/);
    const tools = await http().get('/catalogue?category=tools').expect(200);
    expect(tools.headers['x-circuit-breaker-state']).toBe('closed');
    catalogueTools = tools.body as typeof catalogueTools;
    expect(catalogueTools.products.length).toBe(2);
  });

  it('rejects bad chaos requests with a message naming what was wrong', async () => {
    const service = await http().post('/chaos/shipping/fail').expect(400);
    expect((service.body as { message: string }).message).toContain('unknown downstream "shipping"');
    const action = await http().post('/chaos/payment/explode').expect(400);
    expect((action.body as { message: string }).message).toContain('unknown chaos action "explode"');
  });

  it('queues charges through the method fallback while payment fails, then opens after 3 failures', async () => {
    await http()
      .post('/chaos/payment/fail')
      .expect(200, /"mode":"fail"/);
    for (const id of ['o_2', 'o_3', 'o_4']) {
      const res = await order().expect(201);
      expect(res.body).toMatchObject({ id, status: 'payment_queued', payment: { status: 'queued' } });
      expect((res.body as { payment: { reason: string } }).payment.reason).toContain('payment answered 500');
    }
    expect(await snapshot('payment')).toMatchObject({
      state: 'open',
      openedCount: 1,
      failedCalls: 3,
      fallbacks: 3,
      retryAfterMs: 15_000,
    });
  });

  it('answers 503 + Retry-After on a route without fallback, and never calls payment while open', async () => {
    const before = (await downstream('payment')).requests;
    const res = await http().get('/payments/o_1').expect(503);
    expect(res.headers['retry-after']).toBe('15');
    expect(res.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      breaker: 'payment',
      state: 'open',
    });
    const queued = await order().expect(201);
    expect(queued.body).toMatchObject({ status: 'payment_queued' });
    expect((queued.body as { payment: { reason: string } }).payment.reason).toContain('is open');
    expect((await downstream('payment')).requests).toBe(before);
    const pending = (await http().get('/payments/queued').expect(200)).body as unknown[];
    expect(pending).toHaveLength(4);
  });

  it('stays open until halfOpenAfterMs has passed on the clock, then closes after 2 good probes', async () => {
    await http()
      .post('/chaos/payment/heal')
      .expect(200, /"mode":"ok"/);
    clock.advance(14_001);
    const almost = await http().get('/payments/o_1').expect(503);
    expect(almost.headers['retry-after']).toBe('1');
    clock.advance(999);
    await order().expect(201, /"status":"paid"/);
    expect((await snapshot('payment')).state).toBe('half_open');
    await order().expect(201, /"status":"paid"/);
    expect(await snapshot('payment')).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('times out a hung payment call, aborts the outbound request, and falls back', async () => {
    await http().post('/chaos/payment/hang').expect(200);
    const res = await order().expect(201);
    expect(res.body).toMatchObject({ status: 'payment_queued' });
    expect((res.body as { payment: { reason: string } }).payment.reason).toContain('timed out after 250 ms');
    // The breaker's signal reached fetch: the payment API sees its request abandoned, not left open.
    await until(async () => (await downstream('payment')).aborted === 1, 'the hung request to be aborted');
    const lookup = await http().get('/payments/o_1').expect(504);
    expect(lookup.body).toMatchObject({ statusCode: 504, breaker: 'payment' });
    expect(await snapshot('payment')).toMatchObject({ state: 'closed', timeouts: 2 });
    await http().post('/chaos/payment/heal').expect(200);
  });

  it('retries a flaky inventory call with backoff on the clock, so the order still goes through', async () => {
    await http().post('/chaos/inventory/flaky').expect(200);
    const before = await snapshot('inventory');
    let settled = false;
    const pending = order('saw').then((res) => {
      settled = true;
      return res;
    });
    // The first attempt fails; the retry waits on the ManualClock (or not at all if full jitter drew 0).
    await until(() => clock.pendingSleeps === 1 || settled, 'the retry backoff to start');
    clock.advance(1_000);
    const res = await pending;
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ sku: 'saw', status: 'paid' });
    expect(await snapshot('inventory')).toMatchObject({
      state: 'closed',
      failedCalls: (before.failedCalls as number) + 1,
      successfulCalls: (before.successfulCalls as number) + 1,
      retries: (before.retries as number) + 1,
    });
    expect((await downstream('inventory')).failed).toBe(1);
    await http().post('/chaos/inventory/heal').expect(200);
  });

  it('serves the last known good catalogue while inventory fails, and 503 for a category never seen', async () => {
    await http().post('/chaos/inventory/fail').expect(200);
    const states: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await http().get('/catalogue?category=tools').expect(200);
      expect(res.body).toEqual(catalogueTools);
      states.push(res.headers['x-circuit-breaker-state']);
    }
    // The second failure opened the circuit; the header says so while the stale list keeps coming.
    expect(states).toEqual(['closed', 'open', 'open']);
    expect(await snapshot('catalogue')).toMatchObject({ state: 'open', fallbacks: 3, failedCalls: 2 });
    const unseen = await http().get('/catalogue?category=clothing').expect(503);
    expect(unseen.headers['retry-after']).toBe('10');
    expect(unseen.body).toMatchObject({ breaker: 'catalogue', state: 'open' });
    await http().post('/chaos/inventory/heal').expect(200);
  });

  it('opens the inventory circuit after retries keep failing: 502 first, then 503', async () => {
    await http().post('/chaos/inventory/fail').expect(200);
    const failedBefore = (await downstream('inventory')).failed as number;
    // Drives an order whose reservation waits `waits` times for its retry backoff on the clock.
    const orderWithRetries = async (waits: number) => {
      const pending = order('gloves').then((res) => res);
      for (let wait = 1; wait <= waits; wait++) {
        await until(() => clock.pendingSleeps === 1, `retry wait ${wait}`);
        clock.advance(1_000);
      }
      return pending;
    };
    // 3 failed attempts: the error reaches the client as the 502 the inventory client threw.
    const failed = await orderWithRetries(2);
    expect(failed.status).toBe(502);
    expect((failed.body as { message: string }).message).toContain('inventory answered 500');
    // Attempts 4 and 5 fail (5 in a row opens the circuit); the third attempt would only be refused,
    // so it runs at once, without a backoff wait, and is rejected: 503 with the circuit's full 10 s.
    const rejected = await orderWithRetries(1);
    expect(clock.pendingSleeps).toBe(0);
    expect(rejected.status).toBe(503);
    expect(rejected.body).toMatchObject({ breaker: 'inventory', state: 'open' });
    expect(rejected.headers['retry-after']).toBe('10');
    expect((await downstream('inventory')).failed).toBe(failedBefore + 5);
    await http().post('/chaos/inventory/heal').expect(200);
  });

  it('lets the control routes force a circuit open and reset it', async () => {
    await http()
      .post('/circuit-breakers/payment/force-open')
      .expect((res) => {
        expect(res.status).toBeLessThan(300);
      });
    const forced = await http().get('/payments/o_1').expect(503);
    expect(forced.headers['retry-after']).toBeUndefined();
    expect(forced.body).toMatchObject({ breaker: 'payment', state: 'forced_open' });
    await http()
      .post('/circuit-breakers/payment/reset')
      .expect((res) => {
        expect(res.status).toBeLessThan(300);
      });
    await http().get('/payments/o_1').expect(200);
  });
});

describe('sample shop shutdown', () => {
  it('closes its downstream servers on app.close()', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot()] }).compile();
    const app = moduleRef.createNestApplication<INestApplication<App>>({ logger: false });
    await app.init();
    const status = (await request(app.getHttpServer()).get('/chaos').expect(200)).body as Record<
      string,
      { url: string }
    >;
    const urls = [status.payment.url, status.inventory.url];
    for (const url of urls) expect((await fetch(`${url}/_chaos`)).status).toBe(200);
    await app.close();
    for (const url of urls) await expect(fetch(`${url}/_chaos`)).rejects.toThrow();
  });
});
