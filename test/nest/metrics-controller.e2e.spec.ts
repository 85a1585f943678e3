// GET /circuit-breakers, GET /circuit-breakers/:name, the control routes, guards and mounting options.
import { Injectable, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import {
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
  type CircuitBreakerModuleOptions,
} from '../../lib';
import { bootApp, PLATFORMS, type Platform } from './support/apps';

@Injectable()
class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return req.headers['x-admin'] === 'yes';
  }
}

const CONFIGURED = { payment: { failureThreshold: 3 }, inventory: {}, metrics: {}, dashboard: {} };

function boot(platform: Platform, options: CircuitBreakerModuleOptions): Promise<INestApplication<App>> {
  return bootApp(platform, {
    imports: [
      CircuitBreakerModule.forRoot({ clock: new ManualClock(5_000), breakers: CONFIGURED, ...options }),
    ],
  });
}

describe.each(PLATFORMS)('the metrics controller (%s)', (platform) => {
  describe('read-only (default mount, control off)', () => {
    let app: INestApplication<App>;
    beforeAll(async () => (app = await boot(platform, {})));
    afterAll(async () => app.close());

    it('lists every breaker, configured ones from bootstrap, whatever their names', async () => {
      const res = await request(app.getHttpServer()).get('/circuit-breakers').expect(200);
      expect(Object.keys(res.body as object).sort()).toEqual([
        'dashboard',
        'inventory',
        'metrics',
        'payment',
      ]);
      expect(res.body.payment).toMatchObject({
        name: 'payment',
        state: 'closed',
        totalCalls: 0,
        lastTransitionAt: 5_000,
      });
    });

    it('answers one snapshot by name, and 404 JSON for an unknown name', async () => {
      const registry = app.get(CircuitBreakerRegistry);
      await expect(registry.get('payment').executePromise(() => Promise.resolve(1))).resolves.toBe(1);
      const one = await request(app.getHttpServer()).get('/circuit-breakers/payment').expect(200);
      expect(one.body).toMatchObject({ name: 'payment', state: 'closed', totalCalls: 1, successfulCalls: 1 });
      const missing = await request(app.getHttpServer()).get('/circuit-breakers/nope').expect(404);
      expect(missing.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'no circuit breaker named "nope"',
      });
    });

    it('handles hostile names without crashing, leaking or creating breakers', async () => {
      const registry = app.get(CircuitBreakerRegistry);
      const before = registry.names();
      const hostile = [
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        '..%2Fx',
        '%2E%2E',
        '%00',
        encodeURIComponent('ödeme 💳'),
        'a'.repeat(5_000),
      ];
      for (const name of hostile) {
        const res = await request(app.getHttpServer()).get(`/circuit-breakers/${name}`);
        // 400: undecodable; 414: Fastify's router refuses params over maxParamLength (100) itself.
        expect([400, 404, 414]).toContain(res.status);
        expect(res.body).toMatchObject({ statusCode: res.status });
      }
      expect(registry.names()).toEqual(before);
      const long = await request(app.getHttpServer())
        .get(`/circuit-breakers/${'b'.repeat(90)}`)
        .expect(404);
      expect((long.body as { message: string }).message.length).toBeLessThan(120); // the name is cut, not echoed whole
      await request(app.getHttpServer()).get('/circuit-breakers/payment').expect(200);
    });

    it('serves breakers registered under hostile names like any other', async () => {
      const registry = app.get(CircuitBreakerRegistry);
      registry.register('__proto__', { failureThreshold: 7 });
      registry.register('ödeme 💳', {});
      const proto = await request(app.getHttpServer()).get('/circuit-breakers/__proto__').expect(200);
      expect(proto.body).toMatchObject({ name: '__proto__', state: 'closed' });
      const unicode = await request(app.getHttpServer())
        .get(`/circuit-breakers/${encodeURIComponent('ödeme 💳')}`)
        .expect(200);
      expect(unicode.body).toMatchObject({ name: 'ödeme 💳' });
      const list = await request(app.getHttpServer()).get('/circuit-breakers').expect(200);
      expect(JSON.parse(list.text)).toHaveProperty(['__proto__', 'name'], '__proto__');
    });

    it('does not mount the control routes unless asked', async () => {
      for (const action of ['force-open', 'disable', 'reset'])
        await request(app.getHttpServer()).post(`/circuit-breakers/payment/${action}`).expect(404);
      expect(app.get(CircuitBreakerRegistry).get('payment').state).toBe('closed');
    });
  });

  describe('with control, guards and a custom path', () => {
    let app: INestApplication<App>;
    beforeAll(
      async () =>
        (app = await boot(platform, {
          http: { path: '/ops/breakers/', guards: [AdminGuard], control: true },
        })),
    );
    afterAll(async () => app.close());

    const admin = { 'x-admin': 'yes' };

    it('applies the guards to every route', async () => {
      const server = app.getHttpServer();
      await request(server).get('/ops/breakers').expect(403);
      await request(server).get('/ops/breakers/payment').expect(403);
      await request(server).post('/ops/breakers/payment/force-open').expect(403);
      expect(app.get(CircuitBreakerRegistry).get('payment').state).toBe('closed');
      await request(server).get('/ops/breakers').set(admin).expect(200);
      await request(server).get('/circuit-breakers').set(admin).expect(404);
    });

    it('forces open, disables and resets a breaker; 404 for an unknown name, creating nothing', async () => {
      const server = app.getHttpServer();
      const registry = app.get(CircuitBreakerRegistry);
      const forced = await request(server).post('/ops/breakers/payment/force-open').set(admin).expect(200);
      expect(forced.body).toMatchObject({ name: 'payment', state: 'forced_open' });
      expect(registry.get('payment').state).toBe('forced_open');
      await request(server)
        .post('/ops/breakers/payment/disable')
        .set(admin)
        .expect(200, /"state":"disabled"/);
      await request(server)
        .post('/ops/breakers/payment/reset')
        .set(admin)
        .expect(200, /"state":"closed"/);
      await request(server).post('/ops/breakers/ghost/reset').set(admin).expect(404);
      expect(registry.has('ghost')).toBe(false);
    });
  });

  it('mounts nothing with http: false', async () => {
    const app = await boot(platform, { http: false });
    try {
      await request(app.getHttpServer()).get('/circuit-breakers').expect(404);
      await request(app.getHttpServer()).get('/circuit-breakers/payment').expect(404);
      expect(app.get(CircuitBreakerRegistry).names()).toContain('payment');
    } finally {
      await app.close();
    }
  });
});
