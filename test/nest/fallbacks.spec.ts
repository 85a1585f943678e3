// Fallbacks of decorated methods: method names, functions, values, last known good; per method on a shared breaker.
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
// Observable is imported as a value so that TypeScript emits it as design:returntype.
import { Observable, firstValueFrom, throwError } from 'rxjs';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  ManualClock,
  ResultFailureError,
} from '../../lib';

class Down extends Error {
  override name = 'Down';
}

@Injectable()
class PaymentService {
  failing = true;
  readonly owner = 'payment-service';

  @CircuitBreaker('payment', { fallback: 'chargeLater' })
  async charge(amount: number): Promise<object> {
    if (this.failing) throw new Down(`declined ${amount}`);
    return { charged: amount };
  }

  chargeLater(amount: number, error: unknown): object {
    return { queued: amount, by: this.owner, because: (error as Error).name };
  }

  @CircuitBreaker('payment', { fallback: 'refundLater' })
  refund(amount: number): object {
    if (this.failing) throw new Down(`refund ${amount} failed`);
    return { refunded: amount };
  }

  refundLater(amount: number, error: unknown): object {
    return { refundQueued: amount, because: (error as Error).name };
  }

  /** No fallback of its own: the breaker's configured fallback applies. */
  @CircuitBreaker('payment')
  status(): string {
    if (this.failing) throw new Down('status failed');
    return 'up';
  }
}

@Injectable()
class OtherFallbacks {
  failing = true;

  @CircuitBreaker({
    name: 'geo',
    fallback: (city: string, error: unknown) => ({ city, approx: (error as Error).name }),
  })
  async locate(city: string): Promise<object> {
    if (this.failing) throw new Down('geo down');
    return { city, exact: true };
  }

  @CircuitBreaker('rates', { fallback: { value: { rate: 1 } } })
  rate(): Observable<{ rate: number }> {
    return throwError(() => new Down('rates down'));
  }

  @CircuitBreaker('catalog', { fallback: { lastKnownGood: { ttlMs: 60_000, maxEntries: 10 } } })
  async product(id: string): Promise<string> {
    if (this.failing) throw new Down('catalog down');
    return `product ${id}`;
  }

  @CircuitBreaker('catalog', { fallback: { lastKnownGood: { ttlMs: 60_000, maxEntries: 10 } } })
  async price(id: string): Promise<string> {
    if (this.failing) throw new Down('catalog down');
    return `price ${id}`;
  }

  @CircuitBreaker('unkeyable', {
    fallback: {
      lastKnownGood: { ttlMs: 60_000, maxEntries: 10, key: (id: string) => JSON.parse(id) as string },
    },
  })
  async sku(id: string): Promise<string> {
    if (this.failing) throw new Down('sku down');
    return `sku ${id}`;
  }

  @CircuitBreaker('broken', { fallback: 'explode' })
  async broken(): Promise<string> {
    throw new Down('primary failed');
  }

  explode(): never {
    throw new Error('the fallback failed too');
  }

  @CircuitBreaker('stock', { fallback: 'noStock' })
  stock(): { status: number } {
    return { status: 503 };
  }

  noStock(error: unknown): object {
    return { fallbackFor: (error as ResultFailureError).result };
  }
}

describe('fallbacks of decorated methods', () => {
  let moduleRef: TestingModule;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock();
    moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({
          http: false,
          clock,
          breakers: {
            payment: { failureThreshold: 3, fallback: { value: 'configured fallback' } },
            stock: { isResultFailure: (r) => (r as { status: number }).status >= 500 },
          },
        }),
      ],
      providers: [PaymentService, OtherFallbacks],
    }).compile();
    await moduleRef.init();
  });

  afterEach(async () => moduleRef.close());

  it('calls a method fallback on the same instance with the arguments and the error', async () => {
    const svc = moduleRef.get(PaymentService);
    await expect(svc.charge(10)).resolves.toEqual({ queued: 10, by: 'payment-service', because: 'Down' });
  });

  it('keeps each method’s own fallback on a shared breaker; a method without one gets the breaker’s', async () => {
    const svc = moduleRef.get(PaymentService);
    await expect(svc.charge(1)).resolves.toEqual({ queued: 1, by: 'payment-service', because: 'Down' });
    expect(svc.refund(2)).toEqual({ refundQueued: 2, because: 'Down' });
    expect(svc.status()).toBe('configured fallback');
    const breaker = moduleRef.get(CircuitBreakerRegistry).get('payment');
    expect(breaker.snapshot()).toMatchObject({ state: 'open', failedCalls: 3, fallbacks: 3 });

    // Open now: rejected calls are answered by the same fallbacks, with a CircuitOpenError.
    await expect(svc.charge(3)).resolves.toMatchObject({ queued: 3, because: 'CircuitOpenError' });
    expect(svc.refund(4)).toEqual({ refundQueued: 4, because: 'CircuitOpenError' });
    expect(breaker.snapshot()).toMatchObject({ rejectedCalls: 2, fallbacks: 5 });
  });

  it('serves a function fallback and a { value } fallback (Observable method)', async () => {
    const other = moduleRef.get(OtherFallbacks);
    await expect(other.locate('Oslo')).resolves.toEqual({ city: 'Oslo', approx: 'Down' });
    await expect(firstValueFrom(other.rate())).resolves.toEqual({ rate: 1 });
  });

  it('keeps last known good results per method, young enough, and fails when none is known', async () => {
    const other = moduleRef.get(OtherFallbacks);
    other.failing = false;
    await expect(other.product('a')).resolves.toBe('product a');
    await expect(other.price('a')).resolves.toBe('price a');
    other.failing = true;
    await expect(other.product('a')).resolves.toBe('product a'); // not 'price a': caches are per method
    await expect(other.price('a')).resolves.toBe('price a');
    await expect(other.product('b')).rejects.toThrow('catalog down');
    clock.advance(60_000);
    await expect(other.product('a')).rejects.toThrow('catalog down');
  });

  it('runs a call uncached when its lastKnownGood key throws, with one process warning for the breaker', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const other = moduleRef.get(OtherFallbacks);
      other.failing = false;
      await expect(other.sku('not json')).resolves.toBe('sku not json'); // key: JSON.parse throws
      await expect(other.sku('"ok"')).resolves.toBe('sku "ok"');
      other.failing = true;
      await expect(other.sku('not json')).rejects.toThrow('sku down'); // nothing was cached for it
      await expect(other.sku('"ok"')).resolves.toBe('sku "ok"'); // a key that works still caches
      const warnings = warn.mock.calls.filter((call) => String(call[0]).includes('"unkeyable"'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0][0]).toMatch(
        /^breaker "unkeyable": fallback\.lastKnownGood\.key threw SyntaxError: /,
      );
      expect(warnings[0][1]).toEqual({ code: 'EBREAKERCALLBACK' });
      expect(moduleRef.get(CircuitBreakerRegistry).get('unkeyable').snapshot()).toMatchObject({
        successfulCalls: 2,
        failedCalls: 2,
        fallbacks: 1,
      });
    } finally {
      warn.mockRestore();
    }
  });

  it('passes a failed result (isResultFailure) to the method fallback', () => {
    const other = moduleRef.get(OtherFallbacks);
    expect(other.stock()).toEqual({ fallbackFor: { status: 503 } });
    expect(moduleRef.get(CircuitBreakerRegistry).get('stock').snapshot()).toMatchObject({
      failedCalls: 1,
      fallbacks: 1,
    });
  });

  it('lets the error of a throwing fallback reach the caller', async () => {
    await expect(moduleRef.get(OtherFallbacks).broken()).rejects.toThrow('the fallback failed too');
  });

  it('does not serve a fallback for an error the breaker ignores', async () => {
    moduleRef.get(CircuitBreakerRegistry).register('geo', { ignoreErrors: [Down] });
    await expect(moduleRef.get(OtherFallbacks).locate('Rome')).rejects.toThrow('geo down');
  });

  it('answers a circuit forced open with the method’s fallback, which stays the method’s own', async () => {
    const registry = moduleRef.get(CircuitBreakerRegistry);
    registry.register('broken', {});
    registry.get('broken').forceOpen();
    // The method's own fallback still answers; it throws, so its error is what the caller sees.
    await expect(moduleRef.get(OtherFallbacks).broken()).rejects.toThrow('the fallback failed too');
    registry.get('geo').forceOpen();
    await expect(moduleRef.get(OtherFallbacks).locate('Lima')).resolves.toEqual({
      city: 'Lima',
      approx: 'CircuitOpenError',
    });
    await expect(registry.get('geo').executePromise(() => 'x')).rejects.toBeInstanceOf(CircuitOpenError);
  });
});
