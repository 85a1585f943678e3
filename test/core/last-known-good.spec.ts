import { of, throwError } from 'rxjs';
import {
  CircuitOpenError,
  createBreaker,
  ManualClock,
  type Breaker,
  type LastKnownGoodOptions,
} from '../../lib/core';
import { LastKnownGood } from '../../lib/core/last-known-good';
import { TestError } from './support';

class NotFound extends Error {}

function setup(lastKnownGood: LastKnownGoodOptions) {
  const clock = new ManualClock();
  const b = createBreaker(
    'catalogue',
    { failureThreshold: 100, ignoreErrors: [NotFound], fallback: { lastKnownGood } },
    { clock },
  );
  return { b, clock };
}

const ok = (id: string) => `item ${id}`;
const failing = (_id: string): string => {
  throw new TestError();
};
const failingById = (_id: number): number => {
  throw new TestError();
};

/** The cache inside a breaker (test-only introspection of its size). */
const cacheOf = (b: Breaker) => (b as unknown as { lastKnownGood: LastKnownGood }).lastKnownGood;

describe('lastKnownGood fallback', () => {
  it('serves the last good result for the same arguments when a call fails, while younger than ttlMs', async () => {
    const { b, clock } = setup({ ttlMs: 10_000, maxEntries: 10 });
    await expect(b.executePromise((id: string) => Promise.resolve(`v1 ${id}`), 'a')).resolves.toBe('v1 a');
    clock.advance(9_999);
    await expect(b.executePromise((_id: string) => Promise.reject(new TestError()), 'a')).resolves.toBe(
      'v1 a',
    );
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, fallbacks: 1 });
  });

  it('lets the error through once the stored result is ttlMs old', () => {
    const { b, clock } = setup({ ttlMs: 10_000, maxEntries: 10 });
    b.executeSync(ok, 'a');
    clock.advance(10_000);
    expect(() => b.executeSync(failing, 'a')).toThrow(TestError);
    expect(b.snapshot().fallbacks).toBe(0);
  });

  it('serves it when the call is rejected by an open circuit', () => {
    const { b } = setup({ ttlMs: 10_000, maxEntries: 10 });
    expect(b.executeSync((id: string) => `fresh ${id}`, 'a')).toBe('fresh a');
    b.forceOpen();
    expect(b.executeSync((id: string) => `never ${id}`, 'a')).toBe('fresh a');
    expect(() => b.executeSync((id: string) => `never ${id}`, 'b')).toThrow(CircuitOpenError);
    expect(b.snapshot()).toMatchObject({ rejectedCalls: 2, fallbacks: 1 });
  });

  it('keeps results per key (the arguments by default, or key(...args))', () => {
    const { b } = setup({ ttlMs: 10_000, maxEntries: 10, key: (id: string) => id.toLowerCase() });
    b.executeSync((id: string) => `value of ${id}`, 'A');
    b.executeSync((id: string) => `value of ${id}`, 'B');
    expect(b.executeSync(failing, 'a')).toBe('value of A');
    expect(b.executeSync(failing, 'b')).toBe('value of B');
    expect(() => b.executeSync(failing, 'c')).toThrow(TestError);
  });

  it('does not answer an ignored error', () => {
    const { b } = setup({ ttlMs: 10_000, maxEntries: 10 });
    b.executeSync(ok, 'a');
    expect(() =>
      b.executeSync((_id: string) => {
        throw new NotFound();
      }, 'a'),
    ).toThrow(NotFound);
  });

  it('stores and serves Observable results too', () => {
    const { b } = setup({ ttlMs: 10_000, maxEntries: 10 });
    const values: string[] = [];
    b.executeObservable((id: string) => of(`stream ${id}`), 'a').subscribe((v) => values.push(v));
    b.executeObservable((_id: string) => throwError(() => new TestError()), 'a').subscribe((v) =>
      values.push(v),
    );
    expect(values).toEqual(['stream a', 'stream a']);
  });

  it('evicts the least recently stored or served key beyond maxEntries', () => {
    const { b } = setup({ ttlMs: 10_000, maxEntries: 2 });
    b.executeSync(ok, 'a');
    b.executeSync(ok, 'b');
    expect(b.executeSync(failing, 'a')).toBe(ok('a')); // 'a' is now the most recently used
    b.executeSync(ok, 'c'); // evicts 'b'
    expect(() => b.executeSync(failing, 'b')).toThrow(TestError);
    expect(b.executeSync(failing, 'a')).toBe(ok('a'));
    expect(b.executeSync(failing, 'c')).toBe(ok('c'));
  });

  it('holds maxEntries under 1,000,000 distinct keys', () => {
    const { b } = setup({ ttlMs: 60_000, maxEntries: 1_000, key: (id: number) => String(id) });
    const cache = cacheOf(b);
    let peak = 0;
    for (let i = 0; i < 1_000_000; i++) {
      b.executeSync((id: number) => id, i);
      if (cache.size > peak) peak = cache.size;
    }
    expect(peak).toBe(1_000);
    expect(b.executeSync(failingById, 999_999)).toBe(999_999);
    expect(b.executeSync(failingById, 999_000)).toBe(999_000);
    expect(() => b.executeSync(failingById, 998_999)).toThrow(TestError);
  });
});

describe('LastKnownGood (the bounded cache itself)', () => {
  it('never holds more than maxEntries, whatever the number of distinct keys', () => {
    const clock = new ManualClock();
    const cache = new LastKnownGood({ ttlMs: 1_000, maxEntries: 10 }, clock, 'cache');
    for (let i = 0; i < 100_000; i++) cache.store([i], i);
    expect(cache.size).toBe(10);
    expect(cache.lookup([99_999])).toEqual({ found: true, value: 99_999 });
    expect(cache.lookup([99_989])).toEqual({ found: false });
  });

  it('drops an entry that is ttlMs old when it is looked up', () => {
    const clock = new ManualClock();
    const cache = new LastKnownGood({ ttlMs: 1_000, maxEntries: 10 }, clock, 'cache');
    cache.store(['a'], 'A');
    clock.advance(1_000);
    expect(cache.lookup(['a'])).toEqual({ found: false });
    expect(cache.size).toBe(0);
  });
});
