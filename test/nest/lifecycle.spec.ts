// Bootstrap order, request-scoped and transient providers, transition logs and teardown.
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Scope,
  type INestApplication,
  type OnModuleInit,
} from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import {
  BreakerConfigError,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  ManualClock,
} from '../../lib';
import { CircuitBreakerExplorer } from '../../lib/nest/circuit-breaker.explorer';
import { bootApp, PLATFORMS, RecordingLogger } from './support/apps';
import { getJson, startDownstream, type Downstream } from './support/downstream';

class Down extends Error {}

const hookOrder: string[] = [];

@Injectable()
class InventoryService {
  failing = true;

  @CircuitBreaker('inventory')
  load(): string {
    if (this.failing) throw new Down('inventory down');
    return 'stock';
  }
}

@Module({ providers: [InventoryService], exports: [InventoryService] })
class InventoryModule {}

@Injectable()
class Warmup implements OnModuleInit {
  errors: unknown[] = [];
  constructor(private readonly inventory: InventoryService) {}

  onModuleInit(): void {
    hookOrder.push('warmup');
    for (let i = 0; i < 2; i++) {
      try {
        this.inventory.load();
      } catch (error) {
        this.errors.push(error);
      }
    }
  }
}

@Module({ imports: [InventoryModule], providers: [Warmup] })
class WarmupModule {}

describe('a method called from another module’s onModuleInit', () => {
  it('is already protected although that hook runs before the breaker module’s own', async () => {
    const explorerInit = CircuitBreakerExplorer.prototype.onModuleInit;
    const spy = jest.spyOn(CircuitBreakerExplorer.prototype, 'onModuleInit').mockImplementation(function (
      this: CircuitBreakerExplorer,
    ) {
      hookOrder.push('breaker module');
      return explorerInit.call(this);
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        WarmupModule,
        CircuitBreakerModule.forRoot({ http: false, breakers: { inventory: { failureThreshold: 1 } } }),
      ],
    }).compile();
    try {
      await moduleRef.init();
      expect(hookOrder).toEqual(['warmup', 'breaker module']);
      const [first, second] = moduleRef.get(Warmup).errors;
      expect(first).toBeInstanceOf(Down);
      expect(second).toBeInstanceOf(CircuitOpenError); // the first failure opened the circuit
      expect(moduleRef.get(CircuitBreakerRegistry).get('inventory').snapshot()).toMatchObject({
        state: 'open',
        failedCalls: 1,
        rejectedCalls: 1,
      });
    } finally {
      spy.mockRestore();
      await moduleRef.close();
    }
  });
});

const DOWNSTREAM = Symbol('DOWNSTREAM');
let quoteInstances = 0;

@Injectable({ scope: Scope.TRANSIENT })
class QuoteFormatter {
  @CircuitBreaker('formatter')
  format(value: unknown): string {
    return JSON.stringify(value);
  }
}

@Injectable({ scope: Scope.REQUEST })
class QuoteService {
  constructor(
    @Inject(DOWNSTREAM) private readonly downstream: Downstream,
    private readonly formatter: QuoteFormatter,
  ) {
    quoteInstances++;
  }

  @CircuitBreaker('quotes')
  async quote(): Promise<string> {
    return this.formatter.format(await getJson(`${this.downstream.url}/quote`));
  }
}

@Controller()
class QuoteController {
  constructor(private readonly quotes: QuoteService) {}

  @Get('quote')
  quote(): Promise<string> {
    return this.quotes.quote();
  }

  /** A decorated route of a (request-scoped) controller: the per-request controller is protected too. */
  @Get('direct')
  @CircuitBreaker('direct')
  direct(): string {
    return 'direct';
  }
}

describe.each(PLATFORMS)('request-scoped and transient providers (%s)', (platform) => {
  let downstream: Downstream;
  let app: INestApplication<App>;

  beforeEach(async () => {
    downstream = await startDownstream();
    app = await bootApp(platform, {
      imports: [CircuitBreakerModule.forRoot({ breakers: { quotes: { failureThreshold: 2 } } })],
      controllers: [QuoteController],
      providers: [QuoteService, QuoteFormatter, { provide: DOWNSTREAM, useValue: downstream }],
    });
  });

  afterEach(async () => {
    await app.close();
    await downstream.close();
  });

  it('protects the per-request instances: they trip the shared breaker', async () => {
    const registry = app.get(CircuitBreakerRegistry);
    const created = quoteInstances;
    await request(app.getHttpServer()).get('/quote').expect(200, '{"ok":true,"path":"/quote"}');
    downstream.mode = 'fail';
    await request(app.getHttpServer()).get('/quote').expect(500);
    await request(app.getHttpServer()).get('/quote').expect(500);
    const hits = downstream.hits;
    await request(app.getHttpServer()).get('/quote').expect(503);
    expect(downstream.hits).toBe(hits);
    expect(quoteInstances - created).toBe(4); // one instance per request, each protected
    expect(registry.get('quotes').snapshot()).toMatchObject({
      totalCalls: 4,
      failedCalls: 2,
      rejectedCalls: 1,
    });
    // The transient formatter made for each request-scoped instance went through its breaker too.
    expect(registry.get('formatter').snapshot().totalCalls).toBe(1);
  });

  it('protects decorated routes of request-scoped controllers', async () => {
    const res = await request(app.getHttpServer()).get('/direct').expect(200, 'direct');
    expect(res.headers['x-circuit-breaker-state']).toBe('closed');
    app.get(CircuitBreakerRegistry).get('direct').forceOpen();
    await request(app.getHttpServer()).get('/direct').expect(503);
    expect(app.get(CircuitBreakerRegistry).get('direct').snapshot()).toMatchObject({
      successfulCalls: 1,
      rejectedCalls: 1,
    });
  });
});

describe('request-scoped classes in two running applications', () => {
  it('refuses to guess which application a new instance belongs to', async () => {
    const make = () =>
      Test.createTestingModule({
        imports: [CircuitBreakerModule.forRoot({ http: false, metrics: { promRegistry: false } })],
        providers: [QuoteService, QuoteFormatter, { provide: DOWNSTREAM, useValue: null }],
      }).compile();
    const a = await make();
    const b = await make();
    try {
      await a.init();
      await b.init();
      const instance = await a.resolve(QuoteFormatter, ContextIdFactory.create());
      expect(() => instance.format(1)).toThrow(BreakerConfigError);
      expect(() => instance.format(1)).toThrow(
        'QuoteFormatter is request-scoped or transient and provided by 2 running Nest applications',
      );
      await b.close();
      expect(instance.format(2)).toBe('2'); // one owner left: bound to it
      expect(a.get(CircuitBreakerRegistry).get('formatter').snapshot().totalCalls).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('transition logs and teardown', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => moduleRef?.close());

  it('logs one line per transition through Nest’s Logger, with breaker, from, to and reason', async () => {
    const logger = new RecordingLogger();
    const clock = new ManualClock();
    moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({
          http: false,
          clock,
          breakers: { inventory: { failureThreshold: 1, halfOpenAfterMs: 5_000, successThreshold: 1 } },
        }),
      ],
      providers: [InventoryService],
    })
      .setLogger(logger)
      .compile();
    moduleRef.useLogger(logger);
    await moduleRef.init();
    const inventory = moduleRef.get(InventoryService);
    expect(() => inventory.load()).toThrow(Down);
    clock.advance(5_000);
    inventory.failing = false;
    expect(inventory.load()).toBe('stock');

    const lines = logger.lines.filter((l) => l.context === 'CircuitBreaker');
    expect(lines).toEqual([
      {
        level: 'warn',
        context: 'CircuitBreaker',
        message: 'breaker "inventory" closed -> open: 1 consecutive failures >= 1; half-open in 5000 ms',
      },
      {
        level: 'log',
        context: 'CircuitBreaker',
        message: 'breaker "inventory" open -> half_open: 5000 ms elapsed since opening',
      },
      {
        level: 'log',
        context: 'CircuitBreaker',
        message: 'breaker "inventory" half_open -> closed: 1 successful probe(s)',
      },
    ]);
  });

  it('tears everything down on close: subscriptions, waits, bindings', async () => {
    moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ http: false })],
      providers: [InventoryService],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get(CircuitBreakerRegistry);
    expect(registry.listenerCount).toBeGreaterThan(0); // the transition logger listens
    const breaker = registry.register('queued', { bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    let finish: () => void = () => undefined;
    const running = breaker.executePromise(() => new Promise<void>((resolve) => (finish = resolve)));
    const queued = breaker.executePromise(() => Promise.resolve('never runs'));
    const inventory = moduleRef.get(InventoryService);
    inventory.failing = false;
    inventory.load();

    await moduleRef.close();
    moduleRef = undefined;
    await expect(queued).rejects.toThrow('circuit breaker "queued" was disposed');
    finish();
    await running;
    expect(registry.listenerCount).toBe(0);

    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(inventory.load()).toBe('stock'); // no longer bound to the closed application
      expect(registry.get('inventory').snapshot().totalCalls).toBe(1);
    } finally {
      warn.mockRestore();
    }
  });
});
