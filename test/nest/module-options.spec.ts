// forRoot / forRootAsync variants, isGlobal, and the options token.
import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import request from 'supertest';
import {
  CIRCUIT_BREAKER_OPTIONS,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
  type CircuitBreakerModuleOptions,
  type CircuitBreakerOptionsFactory,
} from '../../lib';
import { bootApp } from './support/apps';

@Injectable()
class BreakerSettings {
  readonly threshold = 2;
}

@Module({ providers: [BreakerSettings], exports: [BreakerSettings] })
class SettingsModule {}

@Injectable()
class OptionsFromSettings implements CircuitBreakerOptionsFactory {
  constructor(private readonly settings: BreakerSettings) {}

  createCircuitBreakerOptions(): CircuitBreakerModuleOptions {
    return { breakers: { payment: { failureThreshold: this.settings.threshold } } };
  }
}

@Module({ imports: [SettingsModule], providers: [OptionsFromSettings], exports: [OptionsFromSettings] })
class OptionsModule {}

@Injectable()
class Consumer {
  constructor(
    readonly registry: CircuitBreakerRegistry,
    @Inject(CIRCUIT_BREAKER_OPTIONS) readonly options: CircuitBreakerModuleOptions,
  ) {}
}

@Module({ providers: [Consumer] })
class FeatureModule {}

/** Two failures open the `payment` breaker when its failureThreshold is 2. */
function opensAfterTwoFailures(registry: CircuitBreakerRegistry): boolean {
  const payment = registry.get('payment');
  for (let i = 0; i < 2; i++) {
    try {
      payment.execute(() => {
        throw new Error('down');
      });
    } catch {
      // expected
    }
  }
  return payment.state === 'open';
}

async function compile(module: DynamicModule, extra: unknown[] = []): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [module, ...(extra as DynamicModule[])],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('CircuitBreakerModule.forRootAsync', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  it('builds the options with useFactory + inject (async factory, imported provider)', async () => {
    moduleRef = await compile(
      CircuitBreakerModule.forRootAsync({
        imports: [SettingsModule],
        inject: [BreakerSettings],
        useFactory: async (settings: BreakerSettings) => ({
          breakers: { payment: { failureThreshold: settings.threshold } },
        }),
      }),
    );
    const registry = moduleRef.get(CircuitBreakerRegistry);
    expect(registry.names()).toContain('payment'); // configured breakers exist from bootstrap
    expect(opensAfterTwoFailures(registry)).toBe(true);
  });

  it('builds the options with useClass', async () => {
    moduleRef = await compile(
      CircuitBreakerModule.forRootAsync({ imports: [SettingsModule], useClass: OptionsFromSettings }),
    );
    expect(opensAfterTwoFailures(moduleRef.get(CircuitBreakerRegistry))).toBe(true);
  });

  it('builds the options with useExisting', async () => {
    moduleRef = await compile(
      CircuitBreakerModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFromSettings }),
    );
    expect(opensAfterTwoFailures(moduleRef.get(CircuitBreakerRegistry))).toBe(true);
  });

  it('registers globally with isGlobal, and only then', async () => {
    moduleRef = await compile(
      CircuitBreakerModule.forRootAsync({ isGlobal: true, useFactory: () => ({ strict: false }) }),
      [FeatureModule],
    );
    const consumer = moduleRef.get(Consumer);
    expect(consumer.registry).toBe(moduleRef.get(CircuitBreakerRegistry));
    expect(consumer.options).toEqual({ strict: false });
    await moduleRef.close();
    moduleRef = undefined;

    // This bootstrap fails, leaving nothing to close: keep its metrics out of prom-client's default registry.
    const noProm = { metrics: { promRegistry: false as const } };
    await expect(
      Test.createTestingModule({
        imports: [CircuitBreakerModule.forRootAsync({ useFactory: () => noProm }), FeatureModule],
      }).compile(),
    ).rejects.toThrow(/Nest can't resolve dependencies of the Consumer \(\?, /);
  });

  it('takes http next to the factory, and refuses it from the factory', async () => {
    const app = await bootApp('express', {
      imports: [
        CircuitBreakerModule.forRootAsync({
          useFactory: () => ({ breakers: { payment: {} } }),
          http: { path: 'ops/breakers' },
        }),
      ],
    });
    try {
      await request(app.getHttpServer()).get('/ops/breakers/payment').expect(200);
      await request(app.getHttpServer()).get('/circuit-breakers/payment').expect(404);
    } finally {
      await app.close();
    }

    const failing = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRootAsync({
          useFactory: () => ({ http: { path: 'elsewhere' }, metrics: { promRegistry: false } }),
        }),
      ],
    });
    await expect(failing.compile()).rejects.toThrow(
      'CircuitBreakerModule.forRootAsync: the options factory returned "http", which is read before the factory runs; pass it to forRootAsync({ http, useFactory, ... }) instead',
    );
  });

  describe('with ConfigService, as in the README', () => {
    const saved = process.env.CB_OPEN_MS;
    beforeEach(() => {
      process.env.CB_OPEN_MS = '5000'; // what a .env file or the shell gives: always a string
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.CB_OPEN_MS;
      else process.env.CB_OPEN_MS = saved;
    });

    it('fails bootstrap with a type message when a string is passed through unconverted', async () => {
      const failing = Test.createTestingModule({
        imports: [
          CircuitBreakerModule.forRootAsync({
            imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
            inject: [ConfigService],
            useFactory: (config: ConfigService) => ({
              defaults: { halfOpenAfterMs: config.get('CB_OPEN_MS') },
              breakers: { payment: {} },
              metrics: { promRegistry: false },
            }),
          }),
        ],
      });
      await expect(failing.compile()).rejects.toThrow(
        'breaker "(defaults)": halfOpenAfterMs must be a number, got string "5000"',
      );
    });

    it("runs the README's example, which converts the value", async () => {
      moduleRef = await compile(
        CircuitBreakerModule.forRootAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            defaults: { halfOpenAfterMs: Number(config.get('CB_OPEN_MS', '30000')) },
            breakers: { payment: { failureThreshold: 1 } },
            clock: new ManualClock(),
          }),
        }),
      );
      const payment = moduleRef.get(CircuitBreakerRegistry).get('payment');
      expect(() =>
        payment.execute(() => {
          throw new Error('down');
        }),
      ).toThrow('down');
      expect(payment.snapshot()).toMatchObject({ state: 'open', retryAfterMs: 5_000 });
    });
  });

  it('needs exactly one way to build the options', () => {
    expect(() => CircuitBreakerModule.forRootAsync({})).toThrow(
      'CircuitBreakerModule.forRootAsync needs exactly one of useFactory, useClass or useExisting',
    );
    expect(() =>
      CircuitBreakerModule.forRootAsync({ useFactory: () => ({}), useClass: OptionsFromSettings }),
    ).toThrow('needs exactly one of useFactory, useClass or useExisting, got useFactory and useClass');
  });
});

describe('CircuitBreakerModule.forRoot', () => {
  it('provides the options under CIRCUIT_BREAKER_OPTIONS and registers globally with isGlobal', async () => {
    const options = { isGlobal: true, breakers: { payment: { failureThreshold: 2 } } };
    const moduleRef = await compile(CircuitBreakerModule.forRoot(options), [FeatureModule]);
    try {
      const consumer = moduleRef.get(Consumer);
      expect(consumer.options).toEqual({ breakers: { payment: { failureThreshold: 2 } } });
      expect(opensAfterTwoFailures(consumer.registry)).toBe(true);
    } finally {
      await moduleRef.close();
    }
  });

  it('works with no options at all', async () => {
    const moduleRef = await compile(CircuitBreakerModule.forRoot());
    try {
      expect(moduleRef.get(CircuitBreakerRegistry).names()).toEqual([]);
    } finally {
      await moduleRef.close();
    }
  });
});
