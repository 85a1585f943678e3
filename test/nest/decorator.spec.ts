// @CircuitBreaker on ordinary providers: shapes kept, names shared, inheritance, one wrapper only.
import { Injectable, type ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
// Observable is imported as a value so that TypeScript emits it as design:returntype.
import { Observable, firstValueFrom, isObservable, of, throwError, toArray } from 'rxjs';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  CircuitState,
} from '../../lib';

class Down extends Error {}

@Injectable()
class ShapeService {
  failing = false;

  @CircuitBreaker('shapes')
  async asyncDouble(x: number): Promise<number> {
    if (this.failing) throw new Down('down');
    return x * 2;
  }

  @CircuitBreaker('shapes')
  promiseDouble(x: number): Promise<number> {
    return this.failing ? Promise.reject(new Down('down')) : Promise.resolve(x * 2);
  }

  @CircuitBreaker('shapes')
  pair(x: number): Observable<number> {
    return this.failing ? throwError(() => new Down('down')) : of(x, x + 1);
  }

  @CircuitBreaker('shapes')
  increment(x: number): number {
    if (this.failing) throw new Down('down');
    return x + 1;
  }

  /** Typed as a Promise but throws synchronously: the Promise variant lifts the throw. */
  @CircuitBreaker('typed')
  typedPromise(): Promise<number> {
    throw new Down('sync throw');
  }

  /** Typed as an Observable but throws synchronously: the Observable variant runs it per subscription. */
  @CircuitBreaker('typed')
  typedObservable(): Observable<number> {
    throw new Down('sync throw');
  }
}

@Injectable()
class PaymentService {
  failing = true;

  @CircuitBreaker('payment')
  charge(): string {
    if (this.failing) throw new Down('charge failed');
    return 'charged';
  }

  @CircuitBreaker('payment')
  refund(): string {
    if (this.failing) throw new Down('refund failed');
    return 'refunded';
  }
}

class BaseClient {
  prefix = 'base';

  @CircuitBreaker('inherited', { fallback: 'offline' })
  fetchIt(): string {
    return `${this.prefix}:fetched`;
  }

  offline(): string {
    return `${this.prefix}:offline`;
  }
}

@Injectable()
class ChildClient extends BaseClient {
  override prefix = 'child';
}

@Injectable()
class OverridingClient extends BaseClient {
  override prefix = 'overriding';

  override fetchIt(): string {
    return `wrapped(${super.fetchIt()})`;
  }

  override offline(): string {
    return 'overriding:own-offline';
  }
}

async function boot(metadata: ModuleMetadata, breakers = {}): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [
      // Two applications run side by side below: prom-client's default registry takes one only.
      CircuitBreakerModule.forRoot({ http: false, breakers, metrics: { promRegistry: false } }),
      ...(metadata.imports ?? []),
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('@CircuitBreaker on provider methods', () => {
  let moduleRef: TestingModule;
  afterEach(async () => moduleRef?.close());

  it('keeps each method shape: Promise, Observable (cold, counted per subscription) and plain value', async () => {
    moduleRef = await boot({ providers: [ShapeService] });
    const svc = moduleRef.get(ShapeService);
    const breaker = moduleRef.get(CircuitBreakerRegistry).get('shapes');

    const promise = svc.asyncDouble(2);
    expect(promise).toBeInstanceOf(Promise);
    await expect(promise).resolves.toBe(4);
    await expect(svc.promiseDouble(3)).resolves.toBe(6);

    const sync = svc.increment(1);
    expect(sync).toBe(2);

    const before = breaker.snapshot().totalCalls;
    const pair = svc.pair(5);
    expect(isObservable(pair)).toBe(true);
    expect(breaker.snapshot().totalCalls).toBe(before); // cold: nothing ran yet
    expect(await firstValueFrom(pair.pipe(toArray()))).toEqual([5, 6]);
    expect(await firstValueFrom(pair.pipe(toArray()))).toEqual([5, 6]);
    expect(breaker.snapshot()).toMatchObject({ totalCalls: before + 2, successfulCalls: before + 2 });
  });

  it('rejects in the shape of the method once the circuit is open', async () => {
    moduleRef = await boot({ providers: [ShapeService] }, { shapes: { failureThreshold: 2 } });
    const svc = moduleRef.get(ShapeService);
    svc.failing = true;
    await expect(svc.asyncDouble(1)).rejects.toBeInstanceOf(Down);
    expect(() => svc.increment(1)).toThrow(Down);
    expect(moduleRef.get(CircuitBreakerRegistry).get('shapes').state).toBe(CircuitState.OPEN);

    expect(() => svc.increment(1)).toThrow(CircuitOpenError); // synchronous throw, no Promise
    const rejected = svc.promiseDouble(1);
    expect(rejected).toBeInstanceOf(Promise);
    await expect(rejected).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(svc.asyncDouble(1)).rejects.toBeInstanceOf(CircuitOpenError);
    const open = svc.pair(1);
    expect(isObservable(open)).toBe(true);
    await expect(firstValueFrom(open)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('picks the explicit variant from the declared return type (Promise, Observable)', async () => {
    moduleRef = await boot({ providers: [ShapeService] });
    const svc = moduleRef.get(ShapeService);
    const lifted = svc.typedPromise(); // does not throw synchronously
    await expect(lifted).rejects.toThrow('sync throw');

    const lazy = svc.typedObservable(); // nothing ran yet
    const typed = moduleRef.get(CircuitBreakerRegistry).get('typed');
    expect(typed.snapshot().totalCalls).toBe(1);
    await expect(firstValueFrom(lazy)).rejects.toThrow('sync throw');
    expect(typed.snapshot()).toMatchObject({ totalCalls: 2, failedCalls: 2 });
  });

  it('lets several methods share one breaker (one circuit, counted together)', async () => {
    moduleRef = await boot({ providers: [PaymentService] }, { payment: { failureThreshold: 2 } });
    const svc = moduleRef.get(PaymentService);
    expect(() => svc.charge()).toThrow('charge failed');
    expect(() => svc.refund()).toThrow('refund failed');
    svc.failing = false;
    expect(() => svc.charge()).toThrow(CircuitOpenError);
    expect(() => svc.refund()).toThrow(CircuitOpenError);
    expect(moduleRef.get(CircuitBreakerRegistry).get('payment').snapshot()).toMatchObject({
      state: 'open',
      failedCalls: 2,
      rejectedCalls: 2,
      totalCalls: 4,
    });
  });

  it('protects inherited methods, also through super from an override, with the fallback resolved on the instance', async () => {
    moduleRef = await boot({ providers: [ChildClient, OverridingClient] });
    const registry = moduleRef.get(CircuitBreakerRegistry);
    const child = moduleRef.get(ChildClient);
    const overriding = moduleRef.get(OverridingClient);

    expect(child.fetchIt()).toBe('child:fetched');
    expect(overriding.fetchIt()).toBe('wrapped(overriding:fetched)');
    expect(registry.get('inherited').snapshot().totalCalls).toBe(2);

    registry.get('inherited').forceOpen();
    expect(child.fetchIt()).toBe('child:offline');
    expect(overriding.fetchIt()).toBe('wrapped(overriding:own-offline)');
    expect(registry.get('inherited').snapshot()).toMatchObject({ totalCalls: 4, fallbacks: 2 });
  });

  it('never wraps a method twice: one breaker call per method call, whatever the providers and apps', async () => {
    const protectedFn = PaymentService.prototype.charge;
    moduleRef = await boot({
      providers: [
        PaymentService,
        { provide: 'ALIAS', useClass: PaymentService },
        { provide: 'EXISTING', useExisting: PaymentService },
      ],
    });
    const second = await boot({ providers: [PaymentService] });
    try {
      expect(PaymentService.prototype.charge).toBe(protectedFn); // bootstrap wrapped nothing
      const a = moduleRef.get(PaymentService);
      const alias = moduleRef.get<PaymentService>('ALIAS');
      const existing = moduleRef.get<PaymentService>('EXISTING');
      expect(Object.prototype.hasOwnProperty.call(a, 'charge')).toBe(false);
      for (const svc of [a, alias, existing, second.get(PaymentService)]) svc.failing = false;

      a.charge();
      alias.charge();
      existing.charge();
      expect(moduleRef.get(CircuitBreakerRegistry).get('payment').snapshot().totalCalls).toBe(3);

      second.get(PaymentService).charge(); // the other application's instance: the other registry
      expect(second.get(CircuitBreakerRegistry).get('payment').snapshot().totalCalls).toBe(1);
      expect(moduleRef.get(CircuitBreakerRegistry).get('payment').snapshot().totalCalls).toBe(3);
    } finally {
      await second.close();
    }
  });

  it('protects instances made by factories and given as values', async () => {
    const given = new PaymentService();
    moduleRef = await boot({
      providers: [
        { provide: 'FROM_FACTORY', useFactory: () => new PaymentService() },
        { provide: 'AS_VALUE', useValue: given },
      ],
    });
    const made = moduleRef.get<PaymentService>('FROM_FACTORY');
    made.failing = false;
    given.failing = false;
    expect(made.charge()).toBe('charged');
    expect(given.refund()).toBe('refunded');
    expect(moduleRef.get(CircuitBreakerRegistry).get('payment').snapshot().totalCalls).toBe(2);
  });

  it('refuses a second @CircuitBreaker on the same method when the class is defined', () => {
    expect(() => {
      class Twice {
        @CircuitBreaker('a')
        @CircuitBreaker('b')
        call(): number {
          return 1;
        }
      }
      return Twice;
    }).toThrow(
      "@CircuitBreaker is applied twice to Twice.call ('b' and 'a'): a method goes through one breaker",
    );
  });

  it('reports decorator mistakes where the class is written', () => {
    expect(() => CircuitBreaker('')).toThrow('the breaker name must be a non-empty string, got ""');
    expect(() => CircuitBreaker('p', { failureTreshold: 3 } as never)).toThrow(
      'breaker "p": unknown option "failureTreshold" (did you mean "failureThreshold"?)',
    );
    expect(() => CircuitBreaker('p', { fallback: 42 } as never)).toThrow(
      "@CircuitBreaker('p'): fallback must be a method name, a function, { value } or { lastKnownGood }, got 42",
    );
    expect(() => {
      class Static {
        @CircuitBreaker('s')
        static call(): number {
          return 1;
        }
      }
      return Static;
    }).toThrow("@CircuitBreaker('s') on static method Static.call: only instance methods can be protected");
  });

  it('runs unprotected, with one warning, on an instance no application owns', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      class Standalone {
        @CircuitBreaker('standalone')
        call(x: number): number {
          return x * 10;
        }
      }
      const s = new Standalone();
      expect(s.call(1)).toBe(10);
      expect(s.call(2)).toBe(20);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toContain(
        'Standalone.call ran without its circuit breaker "standalone"',
      );
    } finally {
      warn.mockRestore();
    }
  });
});
