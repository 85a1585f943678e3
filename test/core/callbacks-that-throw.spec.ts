import { lastValueFrom, of, throwError } from 'rxjs';
import {
  BreakerCallbackError,
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerOptions,
} from '../../lib/core';
import { failSync, TestError, turns } from './support';

// API.md, "User callbacks that throw": a classifier that throws records the call once, as a failure; no
// fallback masks it; the caller gets BreakerCallbackError (cause: what the callback threw, original: the
// error or result it judged). Same in every shape, and never an uncaught exception.

const broken = new Error('predicate bug');
const throwing = (): boolean => {
  throw broken;
};

function breaker(options: BreakerOptions) {
  return createBreaker('payment', { failureThreshold: 100, ...options }, { clock: new ManualClock() });
}

function expectCallbackError(error: unknown, callback: string, original: unknown): void {
  expect(error).toBeInstanceOf(BreakerCallbackError);
  const e = error as BreakerCallbackError;
  expect(e).toMatchObject({ code: 'EBREAKERCALLBACK', breakerName: 'payment', callback });
  expect(e.cause).toBe(broken);
  expect(e.original).toBe(original);
  expect(e.message).toBe(`circuit breaker "payment": ${callback} threw: predicate bug`);
}

describe('isResultFailure that throws', () => {
  const response = { status: 200 };

  it('Observable: the subscriber gets BreakerCallbackError, the call is one failure, the process does not crash', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const b = breaker({ isResultFailure: throwing });
      const error = await lastValueFrom(b.executeObservable(() => of(response))).catch((e: unknown) => e);
      expectCallbackError(error, 'isResultFailure', response);
      await turns();
      expect(uncaught).toEqual([]);
      expect(b.snapshot()).toMatchObject({ failedCalls: 1, successfulCalls: 0, totalCalls: 1 });
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('Promise: the caller gets BreakerCallbackError (not the raw predicate error), recorded once as a failure', async () => {
    const b = breaker({ isResultFailure: throwing });
    const error = await b.executePromise(async () => response).catch((e: unknown) => e);
    expectCallbackError(error, 'isResultFailure', response);
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, successfulCalls: 0 });
  });

  it('sync: a synchronous BreakerCallbackError, recorded once as a failure', () => {
    const b = breaker({ isResultFailure: throwing });
    expectCallbackError(failSyncValue(b, response), 'isResultFailure', response);
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, successfulCalls: 0 });
  });

  it('no fallback masks it, in any shape', async () => {
    const b = breaker({ isResultFailure: throwing, fallback: { value: 'cached' } });
    expectCallbackError(
      await b.executePromise(async () => response).catch((e: unknown) => e),
      'isResultFailure',
      response,
    );
    expectCallbackError(
      await lastValueFrom(b.executeObservable(() => of(response))).catch((e: unknown) => e),
      'isResultFailure',
      response,
    );
    expectCallbackError(failSyncValue(b, response), 'isResultFailure', response);
    expect(b.snapshot()).toMatchObject({ failedCalls: 3, fallbacks: 0 });
  });
});

describe('isFailure that throws', () => {
  it('Promise: BreakerCallbackError with the downstream error as original, recorded as a failure', async () => {
    const b = breaker({ isFailure: throwing, fallback: { value: 'cached' } });
    const downstream = new TestError('503');
    const error = await b.executePromise(() => Promise.reject(downstream)).catch((e: unknown) => e);
    expectCallbackError(error, 'isFailure', downstream);
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, ignoredCalls: 0, fallbacks: 0 });
  });

  it('Observable and sync: the same error, the same single failure', async () => {
    const b = breaker({ isFailure: throwing });
    const downstream = new TestError('503');
    const observed = await lastValueFrom(b.executeObservable(() => throwError(() => downstream))).catch(
      (e: unknown) => e,
    );
    expectCallbackError(observed, 'isFailure', downstream);
    expectCallbackError(failSync(b, downstream), 'isFailure', downstream);
    expect(b.snapshot()).toMatchObject({ failedCalls: 2, totalCalls: 2 });
  });

  it('still trips the circuit: the failures count', () => {
    const b = createBreaker('payment', { failureThreshold: 2, isFailure: throwing });
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
  });
});

describe('retry.retryOn that throws', () => {
  const retry = { maxAttempts: 3, backoff: { type: 'constant' as const, baseMs: 0 }, retryOn: throwing };

  it('Promise: stops retrying; the attempt is recorded once; BreakerCallbackError keeps the original error', async () => {
    const b = breaker({ retry, fallback: { value: 'cached' } });
    const downstream = new TestError('503');
    let attempts = 0;
    const error = await b
      .executePromise(() => {
        attempts++;
        return Promise.reject(downstream);
      })
      .catch((e: unknown) => e);
    expectCallbackError(error, 'retry.retryOn', downstream);
    expect(attempts).toBe(1);
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, totalCalls: 1, fallbacks: 0 });
  });

  it('Observable: the same', async () => {
    const b = breaker({ retry, fallback: { value: 'cached' } });
    const downstream = new TestError('503');
    let attempts = 0;
    const error = await lastValueFrom(
      b.executeObservable(() => {
        attempts++;
        return throwError(() => downstream);
      }),
    ).catch((e: unknown) => e);
    expectCallbackError(error, 'retry.retryOn', downstream);
    expect(attempts).toBe(1);
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, fallbacks: 0 });
  });
});

describe('halfOpenBackoff that throws', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('still opens, for halfOpenAfterMs; the caller gets the downstream error; one warning per name', () => {
    const clock = new ManualClock();
    const options: BreakerOptions = {
      failureThreshold: 1,
      halfOpenAfterMs: 5_000,
      halfOpenBackoff: () => {
        throw broken;
      },
    };
    const b = createBreaker('backoff-throws', options, { clock });
    const downstream = new TestError('503');
    expect(failSync(b, downstream)).toBe(downstream);
    expect(b.snapshot()).toMatchObject({ state: CircuitState.OPEN, openedCount: 1, retryAfterMs: 5_000 });
    clock.advance(5_000);
    expect(failSync(b, downstream)).toBe(downstream); // the probe fails: opens again
    expect(b.snapshot()).toMatchObject({ state: CircuitState.OPEN, openedCount: 2, retryAfterMs: 5_000 });

    // A second breaker of the same name (e.g. another key of a family) does not warn again.
    const sibling = createBreaker('backoff-throws', options, { clock });
    failSync(sibling);
    expect(sibling.state).toBe(CircuitState.OPEN);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]).toEqual([
      'breaker "backoff-throws": halfOpenBackoff(1) threw Error: predicate bug; using halfOpenAfterMs (5000)',
      { code: 'EBREAKERCALLBACK' },
    ]);
  });
});

describe('lastKnownGood.key that throws', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  /** A breaker whose last-known-good cache cannot key any call; each test uses its own name. */
  function unkeyable(name: string) {
    return createBreaker(
      name,
      {
        failureThreshold: 100,
        fallback: {
          lastKnownGood: {
            ttlMs: 60_000,
            maxEntries: 10,
            key: () => {
              throw broken;
            },
          },
        },
      },
      { clock: new ManualClock() },
    );
  }

  const warning = (name: string) => [
    `breaker "${name}": fallback.lastKnownGood.key threw Error: predicate bug; the call runs uncached`,
    { code: 'EBREAKERCALLBACK' },
  ];

  it('Promise: the call runs and returns its value; nothing is cached, so a failure reaches the caller', async () => {
    const b = unkeyable('lkg-key-promise');
    const fn = jest.fn(async (id: string) => `item ${id}`);
    await expect(b.executePromise(fn, 'a')).resolves.toBe('item a');
    await expect(b.executePromise(fn, 'a')).resolves.toBe('item a');
    expect(fn).toHaveBeenCalledTimes(2);
    const down = new TestError('down');
    await expect(b.executePromise(async (_id: string) => Promise.reject(down), 'a')).rejects.toBe(down);
    expect(b.snapshot()).toMatchObject({ successfulCalls: 2, failedCalls: 1, fallbacks: 0 });
    expect(warn.mock.calls).toEqual([warning('lkg-key-promise')]);
  });

  it('Observable: the same', async () => {
    const b = unkeyable('lkg-key-observable');
    await expect(lastValueFrom(b.executeObservable((id: string) => of(`item ${id}`), 'a'))).resolves.toBe(
      'item a',
    );
    const down = new TestError('down');
    await expect(
      lastValueFrom(b.executeObservable((_id: string) => throwError(() => down), 'a')),
    ).rejects.toBe(down);
    expect(b.snapshot()).toMatchObject({ successfulCalls: 1, failedCalls: 1, fallbacks: 0 });
    expect(warn.mock.calls).toEqual([warning('lkg-key-observable')]);
  });

  it('sync: the same', () => {
    const b = unkeyable('lkg-key-sync');
    expect(b.executeSync((id: string) => `item ${id}`, 'a')).toBe('item a');
    const down = new TestError('down');
    const failing = (_id: string): string => {
      throw down;
    };
    expect(() => b.executeSync(failing, 'a')).toThrow(down);
    expect(b.snapshot()).toMatchObject({ successfulCalls: 1, failedCalls: 1, fallbacks: 0 });
    expect(warn.mock.calls).toEqual([warning('lkg-key-sync')]);
  });

  it('an open circuit still rejects with CircuitOpenError (nothing to serve), and the function does not run', async () => {
    const b = unkeyable('lkg-key-open');
    await b.executePromise(async () => 'ok');
    b.forceOpen();
    const fn = jest.fn(async () => 'never');
    await expect(b.executePromise(fn)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(fn).not.toHaveBeenCalled();
  });

  it('warns once per breaker name, never per call: many calls and a second breaker of the same name add none', async () => {
    const b = unkeyable('lkg-key-once');
    for (let i = 0; i < 50; i++) await b.executePromise(async () => i);
    for (let i = 0; i < 50; i++) failSync(b);
    const sibling = unkeyable('lkg-key-once'); // e.g. another key of a family
    sibling.executeSync(() => 'x');
    expect(warn.mock.calls).toEqual([warning('lkg-key-once')]);
    unkeyable('lkg-key-other').executeSync(() => 'y');
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1]).toEqual(warning('lkg-key-other'));
  });

  it('a key that works keeps caching: only a throwing key bypasses the cache', () => {
    let throwFor = '';
    const b = createBreaker(
      'lkg-key-sometimes',
      {
        failureThreshold: 100,
        fallback: {
          lastKnownGood: {
            ttlMs: 60_000,
            maxEntries: 10,
            key: (id: string) => {
              if (id === throwFor) throw broken;
              return id;
            },
          },
        },
      },
      { clock: new ManualClock() },
    );
    b.executeSync((id: string) => `item ${id}`, 'a');
    b.executeSync((id: string) => `item ${id}`, 'b');
    throwFor = 'b';
    const down = new TestError('down');
    const failing = (_id: string): string => {
      throw down;
    };
    expect(b.executeSync(failing, 'a')).toBe('item a');
    expect(() => b.executeSync(failing, 'b')).toThrow(down);
    expect(b.snapshot()).toMatchObject({ failedCalls: 2, fallbacks: 1 });
    expect(warn.mock.calls).toEqual([warning('lkg-key-sometimes')]);
  });
});

/** A sync call returning `value`; returns what it threw. */
function failSyncValue(b: ReturnType<typeof breaker>, value: unknown): unknown {
  try {
    b.executeSync(() => value);
  } catch (thrown) {
    return thrown;
  }
  throw new Error('expected the call to throw');
}
