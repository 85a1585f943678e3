import { of, throwError } from 'rxjs';
import { CircuitOpenError, createBreaker, ManualClock, type BreakerOptions } from '../../lib/core';
import { TestError } from './support';

class NotFound extends Error {}

function breaker(options: BreakerOptions) {
  return createBreaker('payment', { failureThreshold: 100, ...options }, { clock: new ManualClock() });
}

describe('fallback', () => {
  it('is called with the original arguments followed by the error when a call fails', async () => {
    const fallback = jest.fn((amount: number, currency: string, error: unknown) => ({
      queued: true,
      amount,
      currency,
      error,
    }));
    const b = breaker({ fallback });
    const error = new TestError();
    const answer = await b.executePromise(
      (_amount: number, _currency: string) => Promise.reject(error),
      42,
      'EUR',
    );
    expect(answer).toEqual({ queued: true, amount: 42, currency: 'EUR', error });
    expect(fallback).toHaveBeenCalledWith(42, 'EUR', error);
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, fallbacks: 1 });
  });

  it('answers a rejected call (open circuit) with the CircuitOpenError as its last argument', () => {
    const fallback = jest.fn((_id: string, _error: unknown) => 'from fallback');
    const b = breaker({ fallback });
    b.forceOpen();
    const fn = jest.fn((_id: string) => 'live');
    expect(b.executeSync(fn, 'sku-1')).toBe('from fallback');
    expect(fn).not.toHaveBeenCalled();
    expect(fallback.mock.calls[0][0]).toBe('sku-1');
    expect(fallback.mock.calls[0][1]).toBeInstanceOf(CircuitOpenError);
    expect(b.snapshot()).toMatchObject({ rejectedCalls: 1, fallbacks: 1 });
  });

  it('answers a sync failure synchronously and keeps the shape of execute()', () => {
    const b = breaker({ fallback: () => 'sync fallback' });
    expect(
      b.execute(() => {
        throw new TestError();
      }),
    ).toBe('sync fallback');
  });

  it('answers an Observable failure with an Observable', () => {
    const b = breaker({ fallback: (error: unknown) => of(`recovered from ${(error as Error).message}`) });
    const values: string[] = [];
    b.executeObservable(() => throwError(() => new TestError('oops'))).subscribe((v) => values.push(v));
    expect(values).toEqual(['recovered from oops']);
  });

  it('serves a fixed { value }', async () => {
    const b = breaker({ fallback: { value: [] } });
    await expect(b.executePromise(() => Promise.reject(new TestError()))).resolves.toEqual([]);
  });

  it('does not answer an ignored error: it reaches the caller', async () => {
    const fallback = jest.fn(() => 'never');
    const b = breaker({ fallback, ignoreErrors: [NotFound] });
    await expect(b.executePromise(() => Promise.reject(new NotFound()))).rejects.toBeInstanceOf(NotFound);
    expect(fallback).not.toHaveBeenCalled();
    expect(b.snapshot().fallbacks).toBe(0);
  });

  it("propagates the fallback's own throw to the caller (sync, Promise and Observable)", async () => {
    const fallbackError = new Error('fallback broke too');
    const b = breaker({
      fallback: () => {
        throw fallbackError;
      },
    });
    expect(() =>
      b.executeSync(() => {
        throw new TestError();
      }),
    ).toThrow(fallbackError);
    await expect(b.executePromise(() => Promise.reject(new TestError()))).rejects.toBe(fallbackError);
    const errors: unknown[] = [];
    b.executeObservable(() => throwError(() => new TestError())).subscribe({
      error: (e: unknown) => errors.push(e),
    });
    expect(errors).toEqual([fallbackError]);
  });

  it('does not run for a successful call', async () => {
    const fallback = jest.fn(() => 'never');
    const b = breaker({ fallback });
    await expect(b.executePromise(() => Promise.resolve('live'))).resolves.toBe('live');
    expect(fallback).not.toHaveBeenCalled();
  });
});
