// @CircuitBreaker(name, { key }): one circuit per merchant behind real routes, on Express and Fastify.
import { Controller, Get, Inject, Injectable, Param, Query, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
// Observable is imported as a value so that TypeScript emits it as design:returntype.
import { Observable, firstValueFrom, of } from 'rxjs';
import request from 'supertest';
import type { App } from 'supertest/types';
import {
  BreakerCallbackError,
  BreakerConfigError,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  CircuitState,
  ManualClock,
} from '../../lib';
import { bootApp, PLATFORMS } from './support/apps';
import { getJson, startDownstream, type Downstream } from './support/downstream';

const GATEWAYS = Symbol('GATEWAYS');

interface Gateways {
  good: Downstream;
  bad: Downstream;
}

interface Order {
  merchantId?: string;
  amount: number;
}

@Injectable()
class PaymentService {
  constructor(@Inject(GATEWAYS) private readonly gateways: Gateways) {}

  @CircuitBreaker('payment', { key: (order: Order) => order.merchantId })
  async charge(order: Order): Promise<unknown> {
    const gateway = order.merchantId === 'bad' ? this.gateways.bad : this.gateways.good;
    return getJson(`${gateway.url}/charge?amount=${order.amount}`);
  }

  /** Shares the family, keyed differently: by the region in its argument. */
  @CircuitBreaker('payment', { key: (region: string) => `region:${region}` })
  async refund(region: string): Promise<unknown> {
    return getJson(`${this.gateways.good.url}/refund?region=${region}`);
  }
}

@Controller()
class ShopController {
  constructor(private readonly payments: PaymentService) {}

  @Get('pay/:merchant')
  pay(@Param('merchant') merchant: string): Promise<unknown> {
    return this.payments.charge({ merchantId: merchant, amount: 10 });
  }

  @Get('pay')
  payUnkeyed(): Promise<unknown> {
    return this.payments.charge({ amount: 10 });
  }

  @Get('refund')
  refund(@Query('region') region: string): Promise<unknown> {
    return this.payments.refund(region);
  }
}

describe.each(PLATFORMS)('keyed breakers through @CircuitBreaker on real routes (%s)', (platform) => {
  let gateways: Gateways;
  let app: INestApplication<App>;
  let registry: CircuitBreakerRegistry;

  beforeEach(async () => {
    gateways = { good: await startDownstream(), bad: await startDownstream() };
    gateways.bad.mode = 'fail';
    app = await bootApp(platform, {
      imports: [
        CircuitBreakerModule.forRoot({
          clock: new ManualClock(1_000_000),
          breakers: { payment: { failureThreshold: 2, halfOpenAfterMs: 30_000 } },
        }),
      ],
      controllers: [ShopController],
      providers: [PaymentService, { provide: GATEWAYS, useValue: gateways }],
    });
    registry = app.get(CircuitBreakerRegistry);
  });

  afterEach(async () => {
    await app.close();
    await gateways.good.close();
    await gateways.bad.close();
  });

  it('trips the circuit of the failing merchant only; other merchants and the unkeyed breaker keep working', async () => {
    const server = app.getHttpServer();
    await request(server).get('/pay/bad').expect(500);
    await request(server).get('/pay/bad').expect(500);
    const hits = gateways.bad.hits;
    const open = await request(server).get('/pay/bad').expect(503);
    expect(open.headers['retry-after']).toBe('30');
    expect(open.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'circuit breaker "payment" (key "bad") is open; retry in 30000 ms',
      breaker: 'payment',
      key: 'bad',
      state: 'open',
    });
    expect(gateways.bad.hits).toBe(hits);

    await request(server).get('/pay/good').expect(200);
    await request(server).get('/pay').expect(200);
    expect(registry.get('payment', 'bad').state).toBe(CircuitState.OPEN);
    expect(registry.get('payment').state).toBe(CircuitState.CLOSED);
    expect(registry.keys('payment').sort()).toEqual(['bad', 'good']);
    expect(registry.metrics().payment).toMatchObject({
      state: CircuitState.CLOSED,
      totalCalls: 5,
      successfulCalls: 2,
      failedCalls: 2,
      rejectedCalls: 1,
      keys: { alive: 2, open: 1, halfOpen: 0, evicted: 0 },
    });
  });

  it('lets methods sharing a family key their calls differently', async () => {
    const server = app.getHttpServer();
    await request(server).get('/refund?region=eu').expect(200);
    await request(server).get('/pay/good').expect(200);
    expect(registry.keys('payment')).toEqual(['region:eu', 'good']);
  });
});

class KeyBroke extends Error {
  override name = 'KeyBroke';
}

@Injectable()
class HostileKeys {
  runs = 0;

  @CircuitBreaker('tenant', {
    key: (id: string) => {
      if (id === 'boom') throw new KeyBroke('no tenant');
      return id === 'number' ? (42 as unknown as string) : id;
    },
  })
  async load(id: string): Promise<string> {
    this.runs++;
    return `loaded ${id}`;
  }

  @CircuitBreaker('tenant', {
    key: () => {
      throw new KeyBroke('stream key');
    },
  })
  stream(): Observable<string> {
    this.runs++;
    return of('streamed');
  }

  @CircuitBreaker('tenant', {
    key: () => {
      throw new KeyBroke('sync key');
    },
  })
  now(): string {
    this.runs++;
    return 'now';
  }

  @CircuitBreaker('tenant', {
    key(this: HostileKeys, id: string) {
      return `${this.prefix}${id}`;
    },
  })
  async withThis(id: string): Promise<string> {
    return id;
  }

  readonly prefix = 'p-';
}

describe('a hostile key function', () => {
  let registry: CircuitBreakerRegistry;
  let service: HostileKeys;
  let close: () => Promise<void>;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ clock: new ManualClock() })],
      providers: [HostileKeys],
    }).compile();
    await moduleRef.init();
    registry = moduleRef.get(CircuitBreakerRegistry);
    service = moduleRef.get(HostileKeys);
    close = () => moduleRef.close();
  });

  afterEach(() => close());

  it('that throws: nothing runs, nothing is recorded, the caller gets BreakerCallbackError with the cause', async () => {
    const error = (await service.load('boom').catch((e: unknown) => e)) as BreakerCallbackError;
    expect(error).toBeInstanceOf(BreakerCallbackError);
    expect(error).toMatchObject({ code: 'EBREAKERCALLBACK', breakerName: 'tenant', callback: 'key' });
    expect(error.cause).toBeInstanceOf(KeyBroke);
    expect(error.message).toBe('circuit breaker "tenant": key threw: no tenant');
    expect(service.runs).toBe(0);
    expect(registry.metrics().tenant.totalCalls).toBe(0);
    expect(registry.keys('tenant')).toEqual([]);
  });

  it('that returns neither a string nor undefined: nothing runs, BreakerCallbackError names the value', async () => {
    const error = (await service.load('number').catch((e: unknown) => e)) as BreakerCallbackError;
    expect(error).toBeInstanceOf(BreakerCallbackError);
    expect((error.cause as Error).message).toBe(
      'key of HostileKeys.load must return a string or undefined, got 42',
    );
    expect(service.runs).toBe(0);
    expect(registry.metrics().tenant.totalCalls).toBe(0);
  });

  it('keeps the method shape: an Observable errors on subscribe, a sync method throws', async () => {
    const stream = service.stream();
    expect(stream).toBeInstanceOf(Observable);
    await expect(firstValueFrom(stream)).rejects.toBeInstanceOf(BreakerCallbackError);
    expect(() => service.now()).toThrow(BreakerCallbackError);
    expect(service.runs).toBe(0);
  });

  it('is called with the instance as this and the call arguments', async () => {
    await expect(service.withThis('x')).resolves.toBe('x');
    expect(registry.keys('tenant')).toEqual(['p-x']);
  });

  it('a good key after a bad one works normally', async () => {
    await service.load('boom').catch(() => undefined);
    await expect(service.load('t1')).resolves.toBe('loaded t1');
    expect(registry.keys('tenant')).toEqual(['t1']);
    expect(registry.get('tenant', 't1').snapshot()).toMatchObject({ totalCalls: 1, successfulCalls: 1 });
  });
});

describe('@CircuitBreaker key option checks', () => {
  it('rejects a key that is not a function where the class is written', () => {
    expect(() => CircuitBreaker('payment', { key: 'merchantId' as unknown as () => string })).toThrow(
      new BreakerConfigError(
        `@CircuitBreaker('payment'): key must be a function (...args) => string | undefined, got "merchantId"`,
      ),
    );
  });

  it('carries the key on CircuitOpenError from a decorated method', async () => {
    @Injectable()
    class Flaky {
      @CircuitBreaker('flaky', { key: (k: string) => k, failureThreshold: 1 })
      async call(k: string): Promise<string> {
        throw new Error(`down ${k}`);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ clock: new ManualClock() })],
      providers: [Flaky],
    }).compile();
    await moduleRef.init();
    const flaky = moduleRef.get(Flaky);
    await expect(flaky.call('a')).rejects.toThrow('down a');
    const rejected = await flaky.call('a').catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(CircuitOpenError);
    expect(rejected).toMatchObject({ breakerName: 'flaky', key: 'a' });
    await expect(flaky.call('b')).rejects.toThrow('down b');
    await moduleRef.close();
  });
});
