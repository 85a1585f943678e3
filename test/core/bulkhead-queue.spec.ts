import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { lastValueFrom, from } from 'rxjs';
import {
  BulkheadFullError,
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerOptions,
} from '../../lib/core';
import { deferred, turns, type Deferred } from './support';

// API.md, "A queued call re-checks the circuit": a call leaving the bulkhead queue after the state changed
// asks for admission again; refused, it gets CircuitOpenError (rejected, fallbacks apply) and its slot
// passes on. A waiter that times out or is aborted leaves the queue at once.

function setup(options: BreakerOptions = {}) {
  const clock = new ManualClock();
  const b = createBreaker(
    'reports',
    { bulkhead: { maxConcurrent: 1, maxQueue: 10 }, failureThreshold: 100, ...options },
    { clock },
  );
  return { b, clock };
}

function held() {
  const started: string[] = [];
  const pending = new Map<string, Deferred<string>>();
  const fn = (id: string) => {
    started.push(id);
    const d = deferred<string>();
    pending.set(id, d);
    return d.promise;
  };
  return { fn, started, finish: (id: string) => pending.get(id)?.resolve(`done ${id}`) };
}

describe('a queued call re-checks the circuit', () => {
  it('never runs fn once the circuit was forced open while it waited; rejected, counted once', async () => {
    const { b } = setup();
    const { fn, started, finish } = held();
    const running = b.executePromise(fn, 'a');
    const queued = [b.executePromise(fn, 'b'), b.executePromise(fn, 'c')].map((p) =>
      p.catch((e: unknown) => e),
    );
    b.forceOpen();
    finish('a');
    await running;
    const [q1, q2] = await Promise.all(queued);
    expect(q1).toBeInstanceOf(CircuitOpenError);
    expect(q2).toBeInstanceOf(CircuitOpenError);
    expect(started).toEqual(['a']);
    expect(b.snapshot()).toMatchObject({
      totalCalls: 3,
      successfulCalls: 1,
      rejectedCalls: 2,
      bulkheadActive: 0,
      bulkheadQueued: 0,
    });
  });

  it('passes the slot to the next waiter when refused, and serves the waiters after a reset', async () => {
    const { b } = setup({ failureThreshold: 1 });
    const { fn, started } = held();
    const failing = deferred<string>();
    const running = b.executePromise(() => failing.promise).catch((e: unknown) => e);
    const refused = b.executePromise(fn, 'b').catch((e: unknown) => e);
    failing.reject(new Error('down')); // trips the circuit (failureThreshold 1) and frees the slot
    await running;
    expect(b.state).toBe(CircuitState.OPEN);
    expect(await refused).toBeInstanceOf(CircuitOpenError);
    // The refused waiter gave its slot back: a new call (after reset) takes it at once.
    b.reset();
    void b.executePromise(fn, 'c');
    expect(started).toEqual(['c']);
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 1, bulkheadQueued: 0 });
  });

  it('applies the fallback to a queued call refused after the circuit opened', async () => {
    const { b } = setup({ fallback: { value: 'cached' } });
    const { fn, finish } = held();
    const running = b.executePromise(fn, 'a');
    const queued = b.executePromise(fn, 'b');
    b.forceOpen();
    finish('a');
    await running;
    await expect(queued).resolves.toBe('cached');
    expect(b.snapshot()).toMatchObject({ rejectedCalls: 1, fallbacks: 1 });
  });

  it('Observable: a queued subscription does not subscribe to the source after the circuit opened', async () => {
    const { b } = setup();
    const { fn, started, finish } = held();
    const running = b.executePromise(fn, 'a');
    const queued = lastValueFrom(b.executeObservable(() => from(fn('obs')))).catch((e: unknown) => e);
    b.forceOpen();
    finish('a');
    await running;
    expect(await queued).toBeInstanceOf(CircuitOpenError);
    expect(started).toEqual(['a']);
    expect(b.snapshot()).toMatchObject({ rejectedCalls: 1, bulkheadActive: 0 });
  });

  it('runs a queued call normally when the state did not change', async () => {
    const { b } = setup();
    const { fn, started, finish } = held();
    const running = b.executePromise(fn, 'a');
    const queued = b.executePromise(fn, 'b');
    finish('a');
    await running;
    await turns();
    finish('b');
    await expect(queued).resolves.toBe('done b');
    expect(started).toEqual(['a', 'b']);
    expect(b.snapshot()).toMatchObject({ totalCalls: 2, successfulCalls: 2, rejectedCalls: 0 });
  });
});

describe('waiters that give up leave the queue at once', () => {
  it('does not keep aborted waiters behind one hung call (heap stays flat)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { b } = setup({ bulkhead: { maxConcurrent: 1, maxQueue: 10 } });
    const hung = deferred<string>();
    void b.executePromise(() => hung.promise);

    // Each round queues 10 waiters and aborts them: at most 10 are ever queued, 15,000 in all.
    const round = async () => {
      const controller = new AbortController();
      const waits = [];
      for (let i = 0; i < 10; i++)
        waits.push(b.executePromise((_s: AbortSignal) => 'never', controller.signal).catch(() => undefined));
      controller.abort(new Error('caller gave up'));
      await Promise.all(waits);
    };
    for (let i = 0; i < 100; i++) await round(); // warm-up
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_500; i++) await round();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(b.snapshot()).toMatchObject({ bulkheadActive: 1, bulkheadQueued: 0 });
    // Kept in the queue (or linked to the breaker's signal), 15,000 waiters hold over 20 MB; gone, ~0.
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    hung.resolve('done');
  });
});

describe('queue timeouts', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  it('a waiter that timed out leaves the queue at once: the next caller queues in its place', async () => {
    const { b } = setup({ bulkhead: { maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 100 } });
    const { fn, started, finish } = held();
    const running = b.executePromise(fn, 'a');
    const first = b.executePromise(fn, 'b').catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100);
    expect(await first).toBeInstanceOf(BulkheadFullError);
    const second = b.executePromise(fn, 'c');
    expect(b.snapshot().bulkheadQueued).toBe(1);
    finish('a');
    await running;
    await jest.advanceTimersByTimeAsync(0);
    finish('c');
    await expect(second).resolves.toBe('done c');
    expect(started).toEqual(['a', 'c']);
  });
});
