import { of } from 'rxjs';
import {
  CircuitState,
  createBreaker,
  ManualClock,
  ResultFailureError,
  type BreakerOptions,
} from '../../lib/core';
import { failSync, TestError } from './support';

class NotFound extends Error {}
class Gone extends NotFound {}
class Unavailable extends Error {}
class GatewayTimeout extends Unavailable {}

function breaker(options: BreakerOptions) {
  return createBreaker('catalogue', { failureThreshold: 3, ...options }, { clock: new ManualClock() });
}

describe('error classification', () => {
  it('isFailure false: the error reaches the caller unrecorded', () => {
    const b = breaker({ isFailure: (e) => !(e instanceof NotFound) });
    const error = new NotFound('no such item');
    expect(failSync(b, error)).toBe(error);
    expect(b.snapshot()).toMatchObject({
      failedCalls: 0,
      ignoredCalls: 1,
      totalCalls: 1,
      consecutiveFailures: 0,
    });
  });

  it('an ignored error does not touch the consecutive count (neither adds to it nor resets it)', () => {
    const b = breaker({ isFailure: (e) => !(e instanceof NotFound) });
    failSync(b);
    failSync(b);
    failSync(b, new NotFound());
    expect(b.snapshot().consecutiveFailures).toBe(2);
    expect(b.state).toBe(CircuitState.CLOSED);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('ignoreErrors: errors of the listed classes, subclasses included, are ignored', () => {
    const b = breaker({ ignoreErrors: [NotFound] });
    failSync(b, new NotFound());
    failSync(b, new Gone());
    failSync(b, new TestError());
    expect(b.snapshot()).toMatchObject({ ignoredCalls: 2, failedCalls: 1 });
  });

  it('recordErrors: only errors of the listed classes, subclasses included, are recorded', () => {
    const b = breaker({ recordErrors: [Unavailable] });
    failSync(b, new Unavailable());
    failSync(b, new GatewayTimeout());
    failSync(b, new TestError());
    failSync(b, 'a thrown string');
    expect(b.snapshot()).toMatchObject({ failedCalls: 2, ignoredCalls: 2 });
  });

  it('an error matching both ignoreErrors and recordErrors is ignored', () => {
    const b = breaker({ recordErrors: [Unavailable], ignoreErrors: [GatewayTimeout] });
    failSync(b, new GatewayTimeout());
    failSync(b, new Unavailable());
    expect(b.snapshot()).toMatchObject({ ignoredCalls: 1, failedCalls: 1 });
  });

  it('classifies rejected Promises and erroring Observables the same way', async () => {
    const b = breaker({ ignoreErrors: [NotFound] });
    await expect(b.executePromise(() => Promise.reject(new Gone()))).rejects.toBeInstanceOf(Gone);
    const errors: unknown[] = [];
    b.executeObservable(() => {
      throw new NotFound();
    }).subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors).toEqual([expect.any(NotFound)]);
    expect(b.snapshot()).toMatchObject({ ignoredCalls: 2, failedCalls: 0 });
  });
});

describe('isResultFailure', () => {
  const isResultFailure = (r: unknown) => (r as { status: number }).status >= 500;

  it('counts a returned value as a failure while the value still reaches the caller', async () => {
    const b = breaker({ isResultFailure, failureThreshold: 2 });
    const response = { status: 503 };
    expect(b.executeSync(() => response)).toBe(response);
    await expect(b.executePromise(() => Promise.resolve(response))).resolves.toBe(response);
    expect(b.snapshot()).toMatchObject({ failedCalls: 2, successfulCalls: 0, state: CircuitState.OPEN });
  });

  it('lets Observable values through as well and records the call as failed', () => {
    const b = breaker({ isResultFailure });
    const values: unknown[] = [];
    b.executeObservable(() => of({ status: 502 })).subscribe((v) => values.push(v));
    expect(values).toEqual([{ status: 502 }]);
    expect(b.snapshot().failedCalls).toBe(1);
  });

  it('counts values it does not judge failed as successes', () => {
    const b = breaker({ isResultFailure });
    b.executeSync(() => ({ status: 200 }));
    b.executeSync(() => ({ status: 404 }));
    expect(b.snapshot()).toMatchObject({ successfulCalls: 2, failedCalls: 0 });
  });

  it('with a fallback, the fallback answers a failed result (and receives a ResultFailureError with the value)', async () => {
    const fallback = jest.fn((_id: string, error: unknown) => ({ status: 200, cached: true, error }));
    const b = breaker({ isResultFailure, fallback });
    const response = { status: 500 };
    const answer = await b.executePromise((_id: string) => Promise.resolve(response), 'sku-1');
    expect(answer).toMatchObject({ status: 200, cached: true });
    const error = fallback.mock.calls[0][1];
    expect(error).toBeInstanceOf(ResultFailureError);
    expect((error as ResultFailureError).result).toBe(response);
    expect(fallback.mock.calls[0][0]).toBe('sku-1');
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, fallbacks: 1 });
  });

  it('with a fallback, a sync failed result is answered by the fallback too', () => {
    const b = breaker({ isResultFailure, fallback: { value: { status: 200, cached: true } } });
    expect(b.executeSync(() => ({ status: 503 }))).toEqual({ status: 200, cached: true });
  });
});
