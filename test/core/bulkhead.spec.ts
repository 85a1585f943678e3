import { isObservable, NEVER, of } from 'rxjs';
import {
  BulkheadFullError,
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerOptions,
  type BulkheadOptions,
} from '../../lib/core';
import { deferred, failSync, turns, until, type Deferred } from './support';

function setup(bulkhead: BulkheadOptions, options: BreakerOptions = {}) {
  const clock = new ManualClock();
  return { b: createBreaker('reports', { bulkhead, ...options }, { clock }), clock };
}

/** A function whose calls each wait for the test to finish them. */
function held() {
  const started: string[] = [];
  const pending = new Map<string, Deferred<string>>();
  const fn = (id: string) => {
    started.push(id);
    const d = deferred<string>();
    pending.set(id, d);
    return d.promise;
  };
  const finish = (id: string) => pending.get(id)?.resolve(`done ${id}`);
  return { fn, started, finish };
}

describe('bulkhead', () => {
  it('runs at most maxConcurrent calls at once and refuses the rest at once with BulkheadFullError', async () => {
    const { b } = setup({ maxConcurrent: 2 });
    const { fn, started, finish } = held();
    const a = b.executePromise(fn, 'a');
    const c = b.executePromise(fn, 'b');
    await expect(b.executePromise(fn, 'c')).rejects.toBeInstanceOf(BulkheadFullError);
    expect(started).toEqual(['a', 'b']);
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 2, bulkheadQueued: 0 });
    finish('a');
    await a;
    // The freed slot takes the next caller.
    const d = b.executePromise(fn, 'd');
    expect(started).toEqual(['a', 'b', 'd']);
    finish('b');
    finish('d');
    await Promise.all([c, d]);
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 0, successfulCalls: 3, rejectedCalls: 1 });
  });

  it('counts a bulkhead rejection as rejected, never as a failure (the circuit does not trip on it)', async () => {
    const { b } = setup({ maxConcurrent: 1 }, { failureThreshold: 1 });
    const { fn, finish } = held();
    const running = b.executePromise(fn, 'a');
    for (let i = 0; i < 5; i++)
      await expect(b.executePromise(fn, 'x')).rejects.toBeInstanceOf(BulkheadFullError);
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      rejectedCalls: 5,
      failedCalls: 0,
      consecutiveFailures: 0,
      totalCalls: 6,
    });
    finish('a');
    await running;
  });

  it('names the breaker and the limits in the error', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 1 });
    const { fn, finish } = held();
    const running = [b.executePromise(fn, 'a'), b.executePromise(fn, 'b')];
    const error = await b.executePromise(fn, 'c').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EBULKHEADFULL',
      breakerName: 'reports',
      maxConcurrent: 1,
      maxQueue: 1,
    });
    finish('a');
    await until(() => b.snapshot().bulkheadQueued === 0);
    finish('b');
    await Promise.all(running);
  });

  it('queues up to maxQueue callers and serves them in FIFO order', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 3 });
    const { fn, started, finish } = held();
    const calls = ['a', 'b', 'c', 'd'].map((id) => b.executePromise(fn, id));
    await expect(b.executePromise(fn, 'e')).rejects.toBeInstanceOf(BulkheadFullError);
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 1, bulkheadQueued: 3 });
    for (const id of ['a', 'b', 'c', 'd']) {
      await until(() => started.includes(id));
      expect(started[started.length - 1]).toBe(id);
      finish(id);
    }
    await expect(Promise.all(calls)).resolves.toEqual(['done a', 'done b', 'done c', 'done d']);
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 0, bulkheadQueued: 0, successfulCalls: 4 });
  });

  it('takes a queued caller out of the queue when its signal aborts; it never runs', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 2 });
    const { fn, started, finish } = held();
    const run = (id: string, _signal?: AbortSignal) => fn(id);
    const a = b.executePromise(run, 'a');
    const controller = new AbortController();
    const quitter = b.executePromise(run, 'b', controller.signal);
    const c = b.executePromise(run, 'c');
    expect(b.snapshot().bulkheadQueued).toBe(2);
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(quitter).rejects.toBe(reason);
    expect(b.snapshot().bulkheadQueued).toBe(1);
    finish('a');
    await until(() => started.includes('c'));
    finish('c');
    await Promise.all([a, c]);
    expect(started).toEqual(['a', 'c']);
    expect(b.snapshot()).toMatchObject({ failedCalls: 0, successfulCalls: 2 });
  });

  it('applies the fallback to a bulkhead rejection', async () => {
    const fallback = jest.fn((id: string, error: unknown) => `fallback for ${id}: ${(error as Error).name}`);
    const { b } = setup({ maxConcurrent: 1 }, { fallback });
    const { fn, finish } = held();
    const running = b.executePromise(fn, 'a');
    await expect(b.executePromise(fn, 'b')).resolves.toBe('fallback for b: BulkheadFullError');
    expect(b.snapshot().fallbacks).toBe(1);
    finish('a');
    await running;
  });

  it('gives the half-open permit back when the bulkhead refuses a probe', async () => {
    const { b, clock } = setup(
      { maxConcurrent: 1 },
      { failureThreshold: 1, halfOpenAfterMs: 1_000, halfOpenMaxCalls: 2, successThreshold: 2 },
    );
    failSync(b);
    clock.advance(1_000);
    const { fn, started, finish } = held();
    const first = b.executePromise(fn, 'probe 1');
    expect(b.snapshot()).toMatchObject({ state: CircuitState.HALF_OPEN, halfOpenInFlight: 1 });
    await expect(b.executePromise(fn, 'refused')).rejects.toBeInstanceOf(BulkheadFullError);
    expect(b.snapshot().halfOpenInFlight).toBe(1);
    finish('probe 1');
    await first;
    const second = b.executePromise(fn, 'probe 2');
    finish('probe 2');
    await second;
    expect(started).toEqual(['probe 1', 'probe 2']);
    expect(b.state).toBe(CircuitState.CLOSED);
  });

  it('lets an open circuit reject before the bulkhead: nothing queues for a call that cannot run', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 10 });
    b.forceOpen();
    const calls = Array.from({ length: 5 }, () => b.executePromise(() => Promise.resolve(1)));
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 0, bulkheadQueued: 0 });
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('refuses a sync call at once when the slots are taken (a sync call cannot wait)', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 5 });
    const { fn, finish } = held();
    const running = b.executePromise(fn, 'a');
    expect(() => b.executeSync(() => 'sync')).toThrow(BulkheadFullError);
    finish('a');
    await running;
    expect(b.executeSync(() => 'sync')).toBe('sync');
  });

  it('keeps the shape of execute() when the slots are taken: sync stays sync, Observable stays Observable', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 5 });
    expect(b.execute(() => 'sync')).toBe('sync');
    const { fn, finish } = held();
    const running = b.executePromise(fn, 'a');
    // A sync function cannot wait in the queue without turning async: it is refused synchronously.
    expect(() => b.execute(() => 'sync')).toThrow(BulkheadFullError);

    const o = createBreaker(
      'reports',
      { bulkhead: { maxConcurrent: 1, maxQueue: 5 } },
      { clock: new ManualClock() },
    );
    o.execute(() => of('learnt')).subscribe();
    const holding = o.executePromise(fn, 'b');
    const queued = o.execute(() => of('queued'));
    expect(isObservable(queued)).toBe(true);
    const values: string[] = [];
    queued.subscribe((v) => values.push(v));
    expect(o.snapshot().bulkheadQueued).toBe(1);
    finish('b');
    await holding;
    await until(() => values.length === 1);
    expect(values).toEqual(['queued']);
    finish('a');
    await running;
  });

  it('holds a slot for an Observable call until it ends', async () => {
    const { b } = setup({ maxConcurrent: 1 });
    const sub = b.executeObservable(() => NEVER).subscribe();
    await expect(b.executePromise(() => Promise.resolve(1))).rejects.toBeInstanceOf(BulkheadFullError);
    sub.unsubscribe();
    await expect(b.executePromise(() => Promise.resolve(1))).resolves.toBe(1);
  });

  it('rejects queued callers when the breaker is disposed', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 5 });
    const { fn, started, finish } = held();
    const running = b.executePromise(fn, 'a');
    const queued = b.executePromise(fn, 'b');
    b.dispose();
    await expect(queued).rejects.toThrow(/disposed/);
    finish('a');
    await running;
    expect(started).toEqual(['a']);
  });

  it('never exceeds maxConcurrent over 10,000 concurrent calls, and every caller finishes', async () => {
    const { b } = setup({ maxConcurrent: 7, maxQueue: 10_000 });
    let active = 0;
    let peak = 0;
    const fn = async (i: number) => {
      active++;
      peak = Math.max(peak, active);
      await turns(1);
      active--;
      return i;
    };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => b.executePromise(fn, i)));
    await turns(1);
    process.off('warning', onWarning);
    // 9,993 waiters at once are normal: no "possible memory leak" warning in the user's logs.
    expect(warnings.map((w) => w.name)).toEqual([]);
    expect(peak).toBe(7);
    expect(results).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(b.snapshot()).toMatchObject({ successfulCalls: 10_000, bulkheadActive: 0, bulkheadQueued: 0 });
  });

  it('with a short queue, refuses the overflow of 10,000 concurrent calls and still finishes everybody', async () => {
    const { b } = setup({ maxConcurrent: 7, maxQueue: 100 });
    let active = 0;
    let peak = 0;
    const fn = async () => {
      active++;
      peak = Math.max(peak, active);
      await turns(1);
      active--;
      return 'ran';
    };
    const settled = await Promise.allSettled(Array.from({ length: 10_000 }, () => b.executePromise(fn)));
    const ran = settled.filter((s) => s.status === 'fulfilled').length;
    const refused = settled.filter(
      (s) => s.status === 'rejected' && s.reason instanceof BulkheadFullError,
    ).length;
    expect(peak).toBe(7);
    expect([ran, refused]).toEqual([107, 9_893]);
    expect(b.snapshot()).toMatchObject({
      rejectedCalls: 9_893,
      failedCalls: 0,
      bulkheadActive: 0,
      bulkheadQueued: 0,
    });
  });
});

describe('bulkhead queueTimeoutMs', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  it('refuses a caller that waited queueTimeoutMs in the queue, counted as rejected', async () => {
    const { b } = setup({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 500 });
    const { fn, started, finish } = held();
    const running = b.executePromise(fn, 'a');
    const waiting = b.executePromise(fn, 'b').catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(499);
    expect(b.snapshot().bulkheadQueued).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(await waiting).toBeInstanceOf(BulkheadFullError);
    expect(b.snapshot()).toMatchObject({ bulkheadQueued: 0, rejectedCalls: 1, failedCalls: 0 });
    finish('a');
    await running;
    expect(started).toEqual(['a']);
  });
});
