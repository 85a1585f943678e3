// The paths runPromise's policy shortcut and the bulkhead's cached handlers take.
import { createBreaker, ManualClock, type BreakerOptions } from '../../lib/core';

class Boom extends Error {}
const constant = { type: 'constant', baseMs: 10, jitter: 'none' } as const;

function breaker(options: BreakerOptions) {
  const clock = new ManualClock();
  return { b: createBreaker('svc', { failureThreshold: 100, ...options }, { clock }), clock };
}

async function drain(clock: ManualClock, ms: number, call: Promise<unknown>): Promise<void> {
  for (let i = 0; i < 50 && clock.pendingSleeps === 0; i++) await new Promise<void>((r) => setImmediate(r));
  clock.advance(ms);
  await call.catch(() => undefined);
}

describe('policy shortcut (CLOSED, retry or fallback configured)', () => {
  it('a synchronous throw on the first attempt is recorded and retried', async () => {
    const { b, clock } = breaker({ retry: { maxAttempts: 2, backoff: constant } });
    let n = 0;
    const call = b.executePromise(() => {
      if (n++ === 0) throw new Boom('sync');
      return Promise.resolve('second');
    });
    await drain(clock, 10, call);
    await expect(call).resolves.toBe('second');
    expect(b.snapshot()).toMatchObject({ totalCalls: 2, failedCalls: 1, successfulCalls: 1 });
  });

  it('a synchronous throw gets the fallback when no retry is left', async () => {
    const { b } = breaker({ fallback: { value: 'cached' } });
    await expect(
      b.executePromise(() => {
        throw new Boom();
      }),
    ).resolves.toBe('cached');
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, fallbacks: 1 });
  });

  it('a plain value from fn resolves and counts as a success', async () => {
    const { b } = breaker({ retry: { maxAttempts: 3, backoff: constant } });
    await expect(b.executePromise(() => 42)).resolves.toBe(42);
    expect(b.snapshot()).toMatchObject({ totalCalls: 1, successfulCalls: 1, failedCalls: 0 });
  });

  it('a plain value judged failed is retried, then the next value is returned', async () => {
    const { b, clock } = breaker({
      retry: { maxAttempts: 2, backoff: constant },
      isResultFailure: (v) => v === 'bad',
    });
    let n = 0;
    const call = b.executePromise(() => (n++ === 0 ? 'bad' : 'good'));
    await drain(clock, 10, call);
    await expect(call).resolves.toBe('good');
    expect(b.snapshot()).toMatchObject({ totalCalls: 2, failedCalls: 1, successfulCalls: 1 });
  });

  it('a rejection on the shortcut is retried and the last error propagates', async () => {
    const { b, clock } = breaker({ retry: { maxAttempts: 2, backoff: constant } });
    let n = 0;
    const call = b.executePromise(() => Promise.reject(new Boom(`attempt ${++n}`)));
    await drain(clock, 10, call);
    await expect(call).rejects.toThrow('attempt 2');
    expect(b.snapshot()).toMatchObject({ totalCalls: 2, failedCalls: 2 });
  });

  it('last-known-good still caches successes taken on the shortcut', async () => {
    const { b } = breaker({ fallback: { lastKnownGood: { ttlMs: 1_000, maxEntries: 10 } } });
    await expect(b.executePromise(async (id: string) => `v-${id}`, 'a')).resolves.toBe('v-a');
    await expect(b.executePromise(async (_id: string) => Promise.reject(new Boom()), 'a')).resolves.toBe(
      'v-a',
    );
    expect(b.snapshot()).toMatchObject({ successfulCalls: 1, failedCalls: 1, fallbacks: 1 });
  });
});

describe('bulkhead cached handlers', () => {
  it('a rejected call frees its slot and is recorded as a failure', async () => {
    const { b } = breaker({ bulkhead: { maxConcurrent: 1 } });
    for (let i = 0; i < 3; i++)
      await expect(b.executePromise(() => Promise.reject(new Boom()))).rejects.toThrow(Boom);
    await expect(b.executePromise(async () => 'ok')).resolves.toBe('ok');
    expect(b.snapshot()).toMatchObject({
      failedCalls: 3,
      successfulCalls: 1,
      rejectedCalls: 0,
      bulkheadActive: 0,
    });
  });

  it('a value judged failed is returned (no retry, no fallback), recorded, and frees its slot', async () => {
    const { b } = breaker({ bulkhead: { maxConcurrent: 1 }, isResultFailure: (v) => v === 'bad' });
    await expect(b.executePromise(async () => 'bad')).resolves.toBe('bad');
    await expect(b.execute(async () => 'good')).resolves.toBe('good');
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, successfulCalls: 1, bulkheadActive: 0 });
  });

  it('the handlers follow the state generation: after a reopen and reset, slots are still freed', async () => {
    const { b } = breaker({ bulkhead: { maxConcurrent: 1 } });
    await b.executePromise(async () => 1);
    b.forceOpen();
    b.reset();
    await expect(b.executePromise(async () => 2)).resolves.toBe(2);
    await expect(b.executePromise(async () => 3)).resolves.toBe(3);
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 0, state: 'closed' });
  });
});
