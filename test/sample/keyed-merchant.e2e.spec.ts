import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ManualClock } from '../../lib';
import { AppModule } from '../../sample/app.module';

// The sample shop's payment circuit keyed by merchant: one merchant's broken payment account trips its own
// circuit while the other merchants keep being charged. Real local payment and inventory APIs, Express.

describe('sample shop: one circuit per merchant (Express)', () => {
  let app: INestApplication<App>;
  let clock: ManualClock;

  const http = () => request(app.getHttpServer());
  const order = (merchantId: string) =>
    http().post('/orders').send({ sku: 'hammer', quantity: 1, merchantId });
  const paymentRequests = async () =>
    ((await http().get('/chaos').expect(200)).body as Record<string, { requests: number }>).payment.requests;

  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot({ clock })] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('trips the circuit of the broken merchant only, and closes it again once the merchant is healed', async () => {
    await http()
      .post('/chaos/payment/merchants/acme/fail')
      .expect(200, { failingMerchants: ['acme'] });
    for (let i = 0; i < 3; i++) {
      const res = await order('acme').expect(201);
      expect(res.body).toMatchObject({ merchantId: 'acme', status: 'payment_queued' });
    }
    const acme = await http().get('/circuit-breakers/payment?key=acme').expect(200);
    expect(acme.body).toMatchObject({ name: 'payment', key: 'acme', state: 'open' });

    // Open: acme's charges are queued without reaching the payment API; globex is charged as usual.
    const before = await paymentRequests();
    await order('acme').expect(201, /"status":"payment_queued"/);
    expect(await paymentRequests()).toBe(before);
    await order('globex').expect(201, /"status":"paid"/);
    expect(await paymentRequests()).toBe(before + 1);

    const open = await http().get('/circuit-breakers/payment/keys?state=open').expect(200);
    expect((open.body as { key: string }[]).map((s) => s.key)).toEqual(['acme']);
    const family = await http().get('/circuit-breakers/payment').expect(200);
    expect(family.body).toMatchObject({ state: 'closed', keys: { alive: 2, open: 1 } });

    await http().post('/chaos/payment/merchants/acme/heal').expect(200, { failingMerchants: [] });
    clock.advance(15_000);
    await order('acme').expect(201, /"status":"paid"/);
    await order('acme').expect(201, /"status":"paid"/);
    const healed = await http().get('/circuit-breakers/payment?key=acme').expect(200);
    expect(healed.body).toMatchObject({ key: 'acme', state: 'closed' });
  });

  it('rejects a merchantId that is not a non-empty string, and unknown merchant chaos actions', async () => {
    const bad = await http().post('/orders').send({ sku: 'hammer', merchantId: 7 }).expect(400);
    expect((bad.body as { message: string }).message).toBe('merchantId must be a non-empty string, got 7');
    const action = await http().post('/chaos/payment/merchants/acme/explode').expect(400);
    expect((action.body as { message: string }).message).toBe(
      'unknown merchant chaos action "explode", expected fail or heal',
    );
  });
});
