// Bad configuration fails bootstrap with a message that names what is wrong.
import { Injectable, Module, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BreakerConfigError,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
  MemoryStateStore,
  type CircuitBreakerModuleOptions,
} from '../../lib';

// A bootstrap that fails leaves no application to close; the metrics then must not go to prom-client's
// process-wide default registry, or the next application of this file would find them taken.
const NO_PROM = { promRegistry: false } as const;

async function bootstrap(options: CircuitBreakerModuleOptions, providers: Provider[] = []): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [CircuitBreakerModule.forRoot({ http: false, metrics: NO_PROM, ...options })],
    providers,
  }).compile();
  // A failed init makes close() fail the same way: the init error is the one to report.
  await moduleRef.init().finally(() => moduleRef.close().catch(() => undefined));
}

// The compiler refuses these fallback names (test/nest/decorator-typing.spec.ts); `as string` gets them past
// it, as plain JavaScript or a computed name would, to prove the bootstrap check behind it.
@Injectable()
class MissingFallback {
  @CircuitBreaker('payment', { fallback: 'chargeLater' as string })
  charge(): string {
    return 'charged';
  }
}

@Injectable()
class FallbackNotAMethod {
  chargeLater = 'not a method';

  @CircuitBreaker('payment', { fallback: 'chargeLater' as string })
  charge(): string {
    return 'charged';
  }
}

@Injectable()
class Unconfigured {
  @CircuitBreaker('inventroy')
  load(): string {
    return 'stock';
  }
}

@Injectable()
class TuningA {
  @CircuitBreaker('tuned', { failureThreshold: 3 })
  a(): string {
    return 'a';
  }
}

@Injectable()
class TuningB {
  @CircuitBreaker('tuned', { failureThreshold: 5 })
  b(): string {
    return 'b';
  }

  @CircuitBreaker('tuned')
  c(): string {
    return 'c';
  }
}

@Injectable()
class BadTuning {
  @CircuitBreaker('tuned', { halfOpenMaxCalls: 0 })
  a(): string {
    return 'a';
  }
}

@Injectable()
class BadFallbackValue {
  @CircuitBreaker('cache', { fallback: { lastKnownGood: { ttlMs: -1, maxEntries: 10 } } })
  a(): string {
    return 'a';
  }
}

describe('bootstrap errors', () => {
  it('names the breaker, the option, the bad value and the allowed range', async () => {
    await expect(bootstrap({ breakers: { payment: { failureRateThreshold: 150 } } })).rejects.toThrow(
      new BreakerConfigError('breaker "payment": failureRateThreshold must be in (0, 100], got 150'),
    );
    await expect(bootstrap({ defaults: { halfOpenMaxCalls: 0 } })).rejects.toThrow(
      'breaker "(defaults)": halfOpenMaxCalls must be an integer >= 1, got 0',
    );
    await expect(bootstrap({ breakers: { payment: { failureTreshold: 3 } as never } })).rejects.toThrow(
      'breaker "payment": unknown option "failureTreshold" (did you mean "failureThreshold"?)',
    );
  });

  it('reports unknown and mistyped module options', async () => {
    await expect(bootstrap({ breaker: {} } as never)).rejects.toThrow(
      'CircuitBreakerModule: unknown option "breaker" (did you mean "breakers"?)',
    );
    await expect(bootstrap({ strict: 'yes' } as never)).rejects.toThrow(
      'CircuitBreakerModule: strict must be true or false, got "yes"',
    );
    await expect(bootstrap({ mapOpenToHttp: 1 } as never)).rejects.toThrow(
      'CircuitBreakerModule: mapOpenToHttp must be true or false, got 1',
    );
    await expect(bootstrap({ clock: { now: 5 } } as never)).rejects.toThrow(
      'clock must have a now() method returning epoch ms, got {"now":5}',
    );
  });

  it('accepts a CircuitStateStore and rejects anything else as store', async () => {
    await expect(bootstrap({ store: { attach: 1 } as never })).rejects.toThrow(
      /store must be a CircuitStateStore \(an object with attach\(\) and close\(\), .*\), got \{"attach":1\}/,
    );
    await expect(bootstrap({ store: new MemoryStateStore() })).resolves.toBeUndefined();
  });

  it('rejects a bad http mount when the module is declared (routes are static)', () => {
    expect(() => CircuitBreakerModule.forRoot({ http: { path: '/ops/:name' } })).toThrow(
      'CircuitBreakerModule: http.path must be a non-empty URL path of plain segments (letters, digits, - _ . ~), got "/ops/:name"',
    );
    expect(() => CircuitBreakerModule.forRoot({ http: { guards: [42] } as never })).toThrow(
      'CircuitBreakerModule: http.guards[0] must be a guard class or an object with canActivate(), got 42',
    );
    expect(() => CircuitBreakerModule.forRoot({ http: { contol: true } as never })).toThrow(
      'CircuitBreakerModule: unknown option "http.contol" (did you mean "http.control"?)',
    );
    expect(() => CircuitBreakerModule.forRoot({ isGlobal: 'true' } as never)).toThrow(
      'CircuitBreakerModule.forRoot: isGlobal must be true or false, got "true"',
    );
  });

  it('names the class and the method when a fallback method does not exist', async () => {
    await expect(bootstrap({}, [MissingFallback])).rejects.toThrow(
      `@CircuitBreaker('payment') on MissingFallback.charge: fallback method "chargeLater" does not exist on MissingFallback`,
    );
    await expect(bootstrap({}, [FallbackNotAMethod])).rejects.toThrow(
      'fallback method "chargeLater" does not exist on FallbackNotAMethod (it is string, not a method)',
    );
    await expect(bootstrap({}, [BadFallbackValue])).rejects.toThrow(
      'breaker "cache": fallback.lastKnownGood.ttlMs must be in (0, 9007199254740991], got -1 (in @CircuitBreaker on BadFallbackValue.a)',
    );
  });

  it('with strict: true, fails on a decorator naming an unconfigured breaker', async () => {
    await expect(
      bootstrap({ strict: true, breakers: { inventory: {}, payment: {} } }, [Unconfigured]),
    ).rejects.toThrow(
      `@CircuitBreaker('inventroy') on Unconfigured.load: breaker "inventroy" is not configured (strict: true needs it in CircuitBreakerModule.forRoot({ breakers }); configured: "inventory", "payment")`,
    );
    await expect(bootstrap({ breakers: { inventory: {} } }, [Unconfigured])).resolves.toBeUndefined();
  });

  it('configures the named breaker from decorator options, merged over forRoot, and refuses disagreements', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({
          http: false,
          metrics: NO_PROM,
          clock: new ManualClock(),
          breakers: { tuned: { failureThreshold: 9, halfOpenAfterMs: 1_234 } },
        }),
      ],
      providers: [TuningA],
    }).compile();
    await moduleRef.init();
    try {
      const tuned = moduleRef.get(CircuitBreakerRegistry).get('tuned');
      const fail = () => {
        throw new Error('down');
      };
      for (let i = 0; i < 3; i++) expect(() => tuned.execute(fail)).toThrow('down');
      // failureThreshold from the decorator, halfOpenAfterMs from forRoot.
      expect(tuned.snapshot()).toMatchObject({ state: 'open', retryAfterMs: 1_234 });
    } finally {
      await moduleRef.close();
    }

    await expect(bootstrap({}, [TuningA, TuningB])).rejects.toThrow(
      'breaker "tuned": TuningA.a and TuningB.b give different failureThreshold (3 and 5) in @CircuitBreaker',
    );
    await expect(bootstrap({}, [BadTuning])).rejects.toThrow(
      'breaker "tuned": halfOpenMaxCalls must be an integer >= 1, got 0 (in @CircuitBreaker on BadTuning.a)',
    );
  });

  it('refuses a second registration of the module in one application', async () => {
    @Module({ imports: [CircuitBreakerModule.forRoot({ http: false, metrics: NO_PROM })] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ http: false, metrics: NO_PROM }), FeatureModule],
    }).compile();
    const message =
      'CircuitBreakerModule is registered 2 times in this application (each forRoot/forRootAsync call makes one)';
    await expect(moduleRef.init()).rejects.toThrow(message);
    await expect(moduleRef.close()).rejects.toThrow(message); // Nest's close() repeats the failed init
  });
});
