import {
  breakerSignal,
  BulkheadFullError,
  CallTimeoutError,
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerOptions,
} from '../../lib/core';
import { deferred, TestError, turns, until } from './support';

const constant = (baseMs: number) => ({ type: 'constant' as const, baseMs, jitter: 'none' as const });

function setup(options: BreakerOptions) {
  const clock = new ManualClock();
  return { b: createBreaker('inventory', options, { clock }), clock };
}

describe('retry + open circuit', () => {
  it('stops retrying once the attempts have opened the circuit: the caller gets CircuitOpenError at once', async () => {
    const { b, clock } = setup({ failureThreshold: 2, retry: { maxAttempts: 5, backoff: constant(100) } });
    const fn = jest.fn(() => Promise.reject(new TestError()));
    const call = b.executePromise(fn).catch((e: unknown) => e);
    await until(() => clock.pendingSleeps === 1);
    clock.advance(100); // attempt 2 fails: the circuit opens
    // Attempt 3 would be refused after its backoff anyway, so it runs without waiting, is rejected,
    // and a rejection is never retried.
    expect(await call).toBeInstanceOf(CircuitOpenError);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(clock.pendingSleeps).toBe(0);
    expect(b.snapshot()).toMatchObject({ failedCalls: 2, rejectedCalls: 1, totalCalls: 3 });
  });

  it('hands the CircuitOpenError to the fallback when one is configured', async () => {
    const fallback = jest.fn((error: unknown) => (error instanceof CircuitOpenError ? 'cached' : 'other'));
    const { b } = setup({ failureThreshold: 1, retry: { maxAttempts: 3, backoff: constant(0) }, fallback });
    await expect(b.executePromise(() => Promise.reject(new TestError()))).resolves.toBe('cached');
    expect(fallback).toHaveBeenCalledTimes(1);
  });
});

describe('retry + bulkhead', () => {
  it('does not retry a bulkhead rejection by default', async () => {
    const { b, clock } = setup({
      bulkhead: { maxConcurrent: 1 },
      retry: { maxAttempts: 3, backoff: constant(100) },
    });
    const hold = deferred<string>();
    const running = b.executePromise(() => hold.promise);
    await expect(b.executePromise(() => Promise.resolve('x'))).rejects.toBeInstanceOf(BulkheadFullError);
    expect(clock.pendingSleeps).toBe(0);
    hold.resolve('done');
    await running;
  });

  it('with retryOn accepting it, a refused attempt waits and gets the slot freed meanwhile', async () => {
    const { b, clock } = setup({
      bulkhead: { maxConcurrent: 1 },
      retry: { maxAttempts: 3, backoff: constant(100), retryOn: (e) => e instanceof BulkheadFullError },
    });
    const hold = deferred<string>();
    const running = b.executePromise(() => hold.promise);
    const second = b.executePromise(() => Promise.resolve('second ran'));
    await until(() => clock.pendingSleeps === 1);
    hold.resolve('first ran');
    await running;
    clock.advance(100);
    await expect(second).resolves.toBe('second ran');
    expect(b.snapshot()).toMatchObject({ rejectedCalls: 1, successfulCalls: 2, failedCalls: 0 });
  });

  it('frees the slot during the backoff wait: a failed attempt does not hold the bulkhead', async () => {
    const { b, clock } = setup({
      bulkhead: { maxConcurrent: 1 },
      retry: { maxAttempts: 2, backoff: constant(1_000) },
    });
    let attempts = 0;
    const retrying = b.executePromise(() =>
      ++attempts === 1 ? Promise.reject(new TestError()) : Promise.resolve('ok'),
    );
    await until(() => clock.pendingSleeps === 1);
    expect(b.snapshot().bulkheadActive).toBe(0);
    await expect(b.executePromise(() => Promise.resolve('meanwhile'))).resolves.toBe('meanwhile');
    clock.advance(1_000);
    await expect(retrying).resolves.toBe('ok');
  });
});

describe('timeout + retry', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => {
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  it('retries an attempt that timed out; the timeout is counted and its signal aborted', async () => {
    const { b, clock } = setup({ callTimeoutMs: 1_000, retry: { maxAttempts: 2, backoff: constant(200) } });
    const signals: (AbortSignal | undefined)[] = [];
    const call = b.executePromise(() => {
      signals.push(breakerSignal());
      return signals.length === 1 ? new Promise<string>(() => undefined) : Promise.resolve('second attempt');
    });
    await jest.advanceTimersByTimeAsync(1_000);
    await until(() => clock.pendingSleeps === 1);
    expect(signals[0]?.aborted).toBe(true);
    clock.advance(200);
    await expect(call).resolves.toBe('second attempt');
    expect(signals[1]?.aborted).toBe(false);
    expect(b.snapshot()).toMatchObject({ timeouts: 1, failedCalls: 1, successfulCalls: 1, totalCalls: 2 });
  });

  it('gives the caller CallTimeoutError once every attempt has timed out', async () => {
    const { b, clock } = setup({ callTimeoutMs: 500, retry: { maxAttempts: 2, backoff: constant(50) } });
    const call = b.executePromise(() => new Promise<string>(() => undefined)).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(500);
    await until(() => clock.pendingSleeps === 1);
    clock.advance(50);
    await turns(2);
    await jest.advanceTimersByTimeAsync(500);
    expect(await call).toBeInstanceOf(CallTimeoutError);
    expect(b.snapshot()).toMatchObject({ timeouts: 2, failedCalls: 2 });
  });
});

describe('fallback after retries are exhausted', () => {
  it('calls the fallback once, with the arguments and the last error, after every attempt failed', async () => {
    const fallback = jest.fn((id: string, error: unknown) => `fallback ${id}: ${(error as Error).message}`);
    const { b, clock } = setup({
      failureThreshold: 100,
      retry: { maxAttempts: 3, backoff: constant(10) },
      fallback,
    });
    let n = 0;
    const fn = jest.fn((_id: string) => Promise.reject(new TestError(`attempt ${++n}`)));
    const call = b.executePromise(fn, 'sku-7');
    for (let i = 0; i < 2; i++) {
      await until(() => clock.pendingSleeps === 1);
      expect(fallback).not.toHaveBeenCalled();
      clock.advance(10);
    }
    await expect(call).resolves.toBe('fallback sku-7: attempt 3');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(fallback).toHaveBeenCalledTimes(1);
    expect(b.snapshot()).toMatchObject({ failedCalls: 3, fallbacks: 1 });
  });

  it('serves the last known good result after the retries are exhausted', async () => {
    const { b, clock } = setup({
      failureThreshold: 100,
      retry: { maxAttempts: 2, backoff: constant(10) },
      fallback: { lastKnownGood: { ttlMs: 60_000, maxEntries: 10 } },
    });
    await expect(b.executePromise((id: string) => Promise.resolve(`stock of ${id}`), 'sku-1')).resolves.toBe(
      'stock of sku-1',
    );
    const call = b.executePromise((_id: string) => Promise.reject(new TestError()), 'sku-1');
    await until(() => clock.pendingSleeps === 1);
    clock.advance(10);
    await expect(call).resolves.toBe('stock of sku-1');
    expect(b.snapshot()).toMatchObject({ failedCalls: 2, fallbacks: 1 });
  });
});
