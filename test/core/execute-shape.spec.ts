import { defer, isObservable, Observable, of, Subject, throwError } from 'rxjs';
import { CircuitOpenError, CircuitState, createBreaker, ManualClock } from '../../lib/core';
import { TestError } from './support';

function breaker(options = {}) {
  return createBreaker(
    'shape',
    { failureThreshold: 1, halfOpenAfterMs: 1_000, ...options },
    { clock: new ManualClock() },
  );
}

/** Calls `thunk` and reports how its rejection arrived. */
async function rejectionShape(
  thunk: () => unknown,
): Promise<'sync throw' | 'rejected promise' | 'observable error'> {
  let result: unknown;
  try {
    result = thunk();
  } catch (error) {
    expect(error).toBeInstanceOf(CircuitOpenError);
    return 'sync throw';
  }
  if (result instanceof Promise) {
    await expect(result).rejects.toBeInstanceOf(CircuitOpenError);
    return 'rejected promise';
  }
  if (isObservable(result)) {
    const errors: unknown[] = [];
    result.subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors).toEqual([expect.any(CircuitOpenError)]);
    return 'observable error';
  }
  throw new Error(`unexpected result ${String(result)}`);
}

describe('execute() keeps the shape of the function', () => {
  it('Promise in → Promise out', async () => {
    const out = breaker().execute(() => Promise.resolve(42));
    expect(out).toBeInstanceOf(Promise);
    await expect(out).resolves.toBe(42);
  });

  it('a plain value stays a plain value, returned synchronously', () => {
    const b = breaker();
    expect(b.execute((a: number, c: number) => a + c, 2, 3)).toBe(5);
    expect(b.snapshot().successfulCalls).toBe(1);
  });

  it('a sync throw stays a sync throw', () => {
    const b = breaker({ failureThreshold: 5 });
    expect(() =>
      b.execute(() => {
        throw new TestError();
      }),
    ).toThrow(TestError);
    expect(b.snapshot().failedCalls).toBe(1);
  });

  it('Observable in → a cold Observable out: nothing is recorded until somebody subscribes', () => {
    const b = breaker();
    let subscriptions = 0;
    const out = b.execute(() => defer(() => of(++subscriptions)));
    expect(isObservable(out)).toBe(true);
    expect(subscriptions).toBe(0);
    expect(b.snapshot()).toMatchObject({ totalCalls: 0, successfulCalls: 0 });
  });

  it('records one call per subscription', () => {
    const b = breaker();
    let subscriptions = 0;
    const out = b.execute(() => defer(() => of(++subscriptions)));
    const seen: number[] = [];
    out.subscribe((v) => seen.push(v));
    out.subscribe((v) => seen.push(v));
    expect(seen).toEqual([1, 2]);
    expect(b.snapshot()).toMatchObject({ totalCalls: 2, successfulCalls: 2 });
  });

  it('checks the permit at subscribe time, not when execute() is called', () => {
    const b = breaker();
    const out = b.execute(() => of('value'));
    b.forceOpen();
    const errors: unknown[] = [];
    out.subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors).toEqual([expect.any(CircuitOpenError)]);
    b.reset();
    const values: string[] = [];
    out.subscribe((v) => values.push(v));
    expect(values).toEqual(['value']);
  });

  it('records nothing for a subscription that is unsubscribed before it completes', () => {
    const b = breaker();
    const source = new Subject<number>();
    const sub = b.execute(() => source.asObservable()).subscribe();
    source.next(1);
    sub.unsubscribe();
    source.error(new TestError());
    expect(b.snapshot()).toMatchObject({ successfulCalls: 0, failedCalls: 0, cancelledCalls: 1 });
    expect(source.observed).toBe(false);
  });

  it('records an Observable that errors as one failure', () => {
    const b = breaker();
    const errors: unknown[] = [];
    b.execute(() => throwError(() => new TestError())).subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors).toEqual([expect.any(TestError)]);
    expect(b.state).toBe(CircuitState.OPEN);
  });
});

describe('the shape of a rejection from execute()', () => {
  it('an async function gets a rejected Promise even when nothing is known yet', async () => {
    const b = breaker();
    b.forceOpen();
    expect(await rejectionShape(() => b.execute(async () => 1))).toBe('rejected promise');
  });

  it('with nothing known, a synchronous throw (an awaiting caller still catches it)', async () => {
    const b = breaker();
    b.forceOpen();
    expect(await rejectionShape(() => b.execute(() => Promise.resolve(1)))).toBe('sync throw');
    await expect((async () => await b.execute(() => Promise.resolve(1)))()).rejects.toBeInstanceOf(
      CircuitOpenError,
    );
  });

  it('after Promise results, a rejected Promise', async () => {
    const b = breaker();
    await b.execute(() => Promise.reject(new TestError())).catch(() => undefined);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(await rejectionShape(() => b.execute(() => Promise.resolve(1)))).toBe('rejected promise');
  });

  it('after Observable results, an Observable that errors on subscribe', async () => {
    const b = breaker();
    b.execute(() => throwError(() => new TestError())).subscribe({ error: () => undefined });
    expect(b.state).toBe(CircuitState.OPEN);
    const fn = jest.fn(() => of(1));
    expect(await rejectionShape(() => b.execute(fn))).toBe('observable error');
    expect(fn).not.toHaveBeenCalled();
  });

  it('after plain results, a synchronous throw', async () => {
    const b = breaker();
    expect(b.execute(() => 1)).toBe(1);
    expect(() =>
      b.execute(() => {
        throw new TestError();
      }),
    ).toThrow(TestError);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(await rejectionShape(() => b.execute(() => 1))).toBe('sync throw');
  });
});

describe('the explicit variants', () => {
  it('executePromise lifts sync values and sync throws into a Promise', async () => {
    const b = breaker({ failureThreshold: 5 });
    const value = b.executePromise(() => 7);
    expect(value).toBeInstanceOf(Promise);
    await expect(value).resolves.toBe(7);
    let thrown = false;
    const failing = b.executePromise(() => {
      throw new TestError();
    });
    failing.catch(() => (thrown = true));
    await expect(failing).rejects.toBeInstanceOf(TestError);
    expect(thrown).toBe(true);
  });

  it('executePromise rejects (never throws) when the circuit is open', async () => {
    const b = breaker();
    b.forceOpen();
    let out: Promise<number> | undefined;
    expect(() => (out = b.executePromise(() => 1))).not.toThrow();
    await expect(out).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('executeObservable turns values and Promises into a cold Observable, checked per subscription', async () => {
    const b = breaker();
    const fromValue = b.executeObservable(() => 'v');
    const fromPromise = b.executeObservable(() => Promise.resolve('p'));
    expect(b.snapshot().totalCalls).toBe(0);
    const seen: string[] = [];
    fromValue.subscribe((v) => seen.push(v));
    await new Promise<void>((resolve) =>
      fromPromise.subscribe({ next: (v) => seen.push(v), complete: resolve }),
    );
    expect(seen).toEqual(['v', 'p']);
    b.forceOpen();
    const errors: unknown[] = [];
    expect(() => fromValue.subscribe({ error: (e: unknown) => errors.push(e) })).not.toThrow();
    expect(errors).toEqual([expect.any(CircuitOpenError)]);
  });

  it('executeObservable does not call fn before subscription', () => {
    const fn = jest.fn(() => new Observable<number>((s) => s.complete()));
    breaker().executeObservable(fn);
    expect(fn).not.toHaveBeenCalled();
  });

  it('executeSync returns values and throws synchronously, rejections included', () => {
    const b = breaker();
    expect(b.executeSync((x: string) => x.toUpperCase(), 'sync')).toBe('SYNC');
    expect(() =>
      b.executeSync(() => {
        throw new TestError();
      }),
    ).toThrow(TestError);
    expect(() => b.executeSync(() => 1)).toThrow(CircuitOpenError);
  });

  it('passes the arguments through to fn', async () => {
    const b = breaker();
    const fn = jest.fn((a: number, s: string) => Promise.resolve(`${s}${a}`));
    await expect(b.executePromise(fn, 1, 'x')).resolves.toBe('x1');
    expect(fn).toHaveBeenCalledWith(1, 'x');
  });
});
