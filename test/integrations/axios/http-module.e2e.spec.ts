// A real Nest app whose HttpService calls a real downstream through breakers from the app's registry.
import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import axios from 'axios';
import { firstValueFrom, map, type Observable } from 'rxjs';
import request from 'supertest';
import type { App } from 'supertest/types';
import { CircuitBreakerModule, CircuitBreakerRegistry, CircuitState, ManualClock } from '../../../lib';
import { CircuitBreakerHttpModule, protectAxios, protectHttpService } from '../../../lib/integrations/axios';
import { bootApp, PLATFORMS } from '../../nest/support/apps';
import { startDownstream, status, type Downstream } from '../downstream';

@Controller('stock')
class StockController {
  constructor(private readonly http: HttpService) {}

  @Get(':sku')
  stock(@Param('sku') sku: string): Observable<unknown> {
    return this.http.get<unknown>(`/stock/${sku}`).pipe(map((res) => res.data));
  }
}

describe.each(PLATFORMS)('CircuitBreakerHttpModule in a real app (%s)', (platform) => {
  let inventory: Downstream;
  let clock: ManualClock;
  let app: INestApplication<App>;

  beforeEach(async () => {
    inventory = await startDownstream();
    clock = new ManualClock(1_000_000);
    app = await bootApp(platform, {
      imports: [
        CircuitBreakerModule.forRoot({
          isGlobal: true,
          clock,
          defaults: { failureThreshold: 5, halfOpenAfterMs: 10_000, successThreshold: 1 },
          breakers: { [inventory.origin]: { failureThreshold: 2 } },
        }),
        CircuitBreakerHttpModule.register({ http: { baseURL: inventory.origin } }),
      ],
      controllers: [StockController],
    });
  });
  afterEach(async () => {
    await app.close();
    await inventory.close();
  });

  it('trips the origin breaker on 5xx, answers 503 + Retry-After without calling the downstream, and recovers', async () => {
    const server = app.getHttpServer();
    inventory.respond(status(200, '7'));
    await request(server).get('/stock/a').expect(200);

    inventory.respond(status(500));
    await request(server).get('/stock/a').expect(500);
    await request(server).get('/stock/a').expect(500);
    const registry = app.get(CircuitBreakerRegistry);
    expect(registry.get('axios', inventory.origin).state).toBe(CircuitState.OPEN);

    const open = await request(server).get('/stock/a').expect(503);
    expect(open.headers['retry-after']).toBe('10');
    expect(open.body).toMatchObject({
      statusCode: 503,
      breaker: 'axios',
      key: inventory.origin,
      state: 'open',
    });
    expect(inventory.requests).toBe(3);

    clock.advance(10_000);
    inventory.respond(status(200, '9'));
    const back = await request(server).get('/stock/a').expect(200);
    expect(back.text).toBe('9');
    expect(registry.get('axios', inventory.origin).state).toBe(CircuitState.CLOSED);
    expect(inventory.requests).toBe(4);
  });

  it('lets 4xx through to the app without counting them', async () => {
    inventory.respond(status(404, 'unknown sku'));
    for (let i = 0; i < 3; i++) await request(app.getHttpServer()).get('/stock/zz').expect(500);
    const snap = app.get(CircuitBreakerRegistry).get('axios', inventory.origin).snapshot();
    expect(snap).toMatchObject({ state: CircuitState.CLOSED, failedCalls: 0, successfulCalls: 3 });
  });

  it('lists the axios family, with the origin as its key, on the metrics route', async () => {
    await request(app.getHttpServer()).get('/stock/a').expect(200);
    const res = await request(app.getHttpServer()).get('/circuit-breakers').expect(200);
    const body = res.body as Record<string, { keys?: { alive: number } }>;
    expect(body.axios.keys).toMatchObject({ alive: 1 });
    expect(app.get(CircuitBreakerRegistry).keys('axios')).toEqual([inventory.origin]);
  });
});

describe('HttpService protection lifecycle', () => {
  let inventory: Downstream;

  beforeEach(async () => {
    inventory = await startDownstream();
  });
  afterEach(() => inventory.close());

  it('is removed on app.close(): the axios instance can be protected again', async () => {
    const app = await bootApp('express', {
      imports: [
        CircuitBreakerModule.forRoot({ isGlobal: true, http: false }),
        CircuitBreakerHttpModule.register({ isGlobal: true }),
      ],
    });
    const http = app.get(HttpService);
    expect(() => protectAxios(http.axiosRef, app.get(CircuitBreakerRegistry))).toThrow('already protected');
    await app.close();
    const unprotect = protectAxios(http.axiosRef, app.get(CircuitBreakerRegistry));
    unprotect();
  });

  it('protects an HttpModule.registerAsync instance with the protectHttpService provider', async () => {
    @Module({
      imports: [HttpModule.registerAsync({ useFactory: () => ({ baseURL: inventory.origin }) })],
      providers: [protectHttpService({ name: () => 'inventory' })],
      exports: [HttpModule],
    })
    class InventoryModule {}

    const app = await bootApp('express', {
      imports: [
        CircuitBreakerModule.forRoot({
          isGlobal: true,
          http: false,
          breakers: { inventory: { failureThreshold: 1 } },
        }),
        InventoryModule,
      ],
    });
    try {
      const http = app.select(InventoryModule).get(HttpService);
      inventory.respond(status(503));
      await expect(firstValueFrom(http.get('/x'))).rejects.toMatchObject({ response: { status: 503 } });
      await expect(firstValueFrom(http.get('/x'))).rejects.toMatchObject({ code: 'ECIRCUITOPEN' });
      expect(inventory.requests).toBe(1);
      // The global axios instance is untouched.
      expect((await axios.get(`${inventory.origin}/x`, { validateStatus: () => true })).status).toBe(503);
      expect(inventory.requests).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('fails bootstrap with a clear message when no CircuitBreakerRegistry is visible', async () => {
    const compiling = Test.createTestingModule({ imports: [CircuitBreakerHttpModule.register()] })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    await expect(compiling).rejects.toThrow(
      'CircuitBreakerHttpModule.register: no CircuitBreakerRegistry is visible here',
    );
  });

  it('rejects unknown options where the module is declared', () => {
    expect(() => CircuitBreakerHttpModule.register({ timeout: 5 } as never)).toThrow(
      'CircuitBreakerHttpModule.register: unknown option "timeout" (known: name, family, isFailureStatus, retryAfter, http, isGlobal)',
    );
  });
});
