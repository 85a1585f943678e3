import { defer, of, throwError } from 'rxjs';
import {
  CircuitOpenError,
  createBreaker,
  ManualClock,
  type BreakerOptions,
  type RetryOptions,
} from '../../lib/core';
import { TestError, turns, until } from './support';

class Transient extends Error {}
class Permanent extends Error {}

function setup(retry: RetryOptions, options: BreakerOptions = {}, random?: () => number) {
  const clock = new ManualClock();
  const b = createBreaker('inventory', { failureThreshold: 100, retry, ...options }, { clock, random });
  return { b, clock };
}

/** A function failing `failures` times with `error`, then answering 'ok'. */
function flaky(failures: number, error: () => unknown = () => new Transient()) {
  return jest.fn(async (..._args: unknown[]) => {
    if (failures-- > 0) throw error();
    return 'ok';
  });
}

/** Lets the current attempt fail and the retry wait begin. */
const waiting = (clock: ManualClock) => until(() => clock.pendingSleeps === 1);

describe('retry', () => {
  it('retries a failed call up to maxAttempts, each attempt recorded by the breaker', async () => {
    const { b, clock } = setup({
      maxAttempts: 3,
      backoff: { type: 'constant', baseMs: 100, jitter: 'none' },
    });
    const fn = flaky(2);
    const call = b.executePromise(fn);
    await waiting(clock);
    clock.advance(100);
    await waiting(clock);
    clock.advance(100);
    await expect(call).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(b.snapshot()).toMatchObject({ totalCalls: 3, failedCalls: 2, successfulCalls: 1 });
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { b, clock } = setup({ maxAttempts: 2, backoff: { type: 'constant', baseMs: 10, jitter: 'none' } });
    let n = 0;
    const call = b.executePromise(() => Promise.reject(new TestError(`attempt ${++n}`)));
    const outcome = call.catch((e: Error) => e.message);
    await waiting(clock);
    clock.advance(10);
    expect(await outcome).toBe('attempt 2');
    expect(clock.pendingSleeps).toBe(0);
    expect(b.snapshot().failedCalls).toBe(2);
  });

  it('waits on the injected clock: the next attempt starts only once the clock has moved by the delay', async () => {
    const { b, clock } = setup({
      maxAttempts: 2,
      backoff: { type: 'constant', baseMs: 500, jitter: 'none' },
    });
    const fn = flaky(1);
    const call = b.executePromise(fn);
    await waiting(clock);
    clock.advance(499);
    await turns(5);
    expect(fn).toHaveBeenCalledTimes(1);
    clock.advance(1);
    await expect(call).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('backs off exponentially from baseMs, capped at maxMs', async () => {
    const { b, clock } = setup({
      maxAttempts: 5,
      backoff: { type: 'exponential', baseMs: 100, maxMs: 350, jitter: 'none' },
    });
    const fn = flaky(4);
    const call = b.executePromise(fn);
    for (const [attempt, delay] of [
      [1, 100],
      [2, 200],
      [3, 350],
      [4, 350],
    ]) {
      await waiting(clock);
      expect(fn).toHaveBeenCalledTimes(attempt);
      clock.advance(delay - 1);
      await turns(3);
      expect(fn).toHaveBeenCalledTimes(attempt);
      clock.advance(1);
    }
    await expect(call).resolves.toBe('ok');
  });

  it('with full jitter waits a random share of the delay (from the injected random source)', async () => {
    const { b, clock } = setup(
      { maxAttempts: 3, backoff: { type: 'exponential', baseMs: 1_000, maxMs: 10_000, jitter: 'full' } },
      {},
      () => 0.25,
    );
    const fn = flaky(2);
    const call = b.executePromise(fn);
    await waiting(clock);
    clock.advance(250); // 0.25 * 1000
    await waiting(clock);
    clock.advance(499);
    await turns(3);
    expect(fn).toHaveBeenCalledTimes(2);
    clock.advance(1); // 0.25 * 2000
    await expect(call).resolves.toBe('ok');
  });

  it('retries only what retryOn accepts', async () => {
    const { b } = setup({ maxAttempts: 5, retryOn: (e) => e instanceof Transient });
    const fn = flaky(3, () => new Permanent());
    await expect(b.executePromise(fn)).rejects.toBeInstanceOf(Permanent);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('by default does not retry an error the breaker ignores', async () => {
    const { b } = setup({ maxAttempts: 5 }, { ignoreErrors: [Permanent] });
    const fn = flaky(3, () => new Permanent());
    await expect(b.executePromise(fn)).rejects.toBeInstanceOf(Permanent);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('never retries CircuitOpenError, even when retryOn accepts everything', async () => {
    const { b, clock } = setup({ maxAttempts: 5, retryOn: () => true });
    b.forceOpen();
    const fn = flaky(0);
    await expect(b.executePromise(fn)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(fn).not.toHaveBeenCalled();
    expect(clock.pendingSleeps).toBe(0);
    expect(b.snapshot().rejectedCalls).toBe(1);
  });

  it("stops waiting at once when the caller's signal (the last argument) aborts", async () => {
    const { b, clock } = setup({
      maxAttempts: 3,
      backoff: { type: 'constant', baseMs: 60_000, jitter: 'none' },
    });
    const controller = new AbortController();
    const fn = flaky(5);
    const call = b.executePromise((_id: string, _signal: AbortSignal) => fn(), 'sku-1', controller.signal);
    await waiting(clock);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(clock.pendingSleeps).toBe(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('stops waiting at once when the breaker is disposed', async () => {
    const { b, clock } = setup({
      maxAttempts: 3,
      backoff: { type: 'constant', baseMs: 60_000, jitter: 'none' },
    });
    const fn = flaky(5);
    const call = b.executePromise(fn);
    await waiting(clock);
    b.dispose();
    await expect(call).rejects.toThrow(/disposed/);
    expect(clock.pendingSleeps).toBe(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('retries Observable calls by resubscribing, each attempt one breaker call', async () => {
    const { b, clock } = setup({
      maxAttempts: 3,
      backoff: { type: 'constant', baseMs: 100, jitter: 'none' },
    });
    let subscriptions = 0;
    const source = defer(() => (++subscriptions < 3 ? throwError(() => new Transient()) : of('ok')));
    const values: string[] = [];
    let completed = false;
    b.executeObservable(() => source).subscribe({
      next: (v) => values.push(v),
      complete: () => (completed = true),
    });
    await waiting(clock);
    clock.advance(100);
    await waiting(clock);
    clock.advance(100);
    await until(() => completed);
    expect(values).toEqual(['ok']);
    expect(b.snapshot()).toMatchObject({ totalCalls: 3, failedCalls: 2, successfulCalls: 1 });
  });

  it('stops an Observable retry wait when the subscriber unsubscribes', async () => {
    const { b, clock } = setup({
      maxAttempts: 3,
      backoff: { type: 'constant', baseMs: 100, jitter: 'none' },
    });
    const sub = b
      .executeObservable(() => throwError(() => new Transient()))
      .subscribe({ error: () => undefined });
    await waiting(clock);
    sub.unsubscribe();
    expect(clock.pendingSleeps).toBe(0);
  });

  describe('counting retries (snapshot.retries)', () => {
    const constant100 = {
      maxAttempts: 3,
      backoff: { type: 'constant', baseMs: 100, jitter: 'none' },
    } as const;

    it('counts each attempt made again: a Promise call that succeeds on its third attempt adds 2', async () => {
      const { b, clock } = setup(constant100);
      const call = b.executePromise(flaky(2));
      await waiting(clock);
      expect(b.snapshot().retries).toBe(0); // waiting is not retrying yet
      clock.advance(100);
      await waiting(clock);
      expect(b.snapshot().retries).toBe(1);
      clock.advance(100);
      await expect(call).resolves.toBe('ok');
      expect(b.snapshot()).toMatchObject({ retries: 2, totalCalls: 3 });
      await expect(b.executePromise(flaky(0))).resolves.toBe('ok');
      expect(b.snapshot().retries).toBe(2); // a first-time success is no retry
    });

    it('counts Observable resubscriptions the same way', async () => {
      const { b, clock } = setup(constant100);
      let failures = 2;
      const source = defer(() => (failures-- > 0 ? throwError(() => new Transient()) : of('ok')));
      let completed = false;
      b.executeObservable(() => source).subscribe({ complete: () => (completed = true) });
      await waiting(clock);
      clock.advance(100);
      await waiting(clock);
      clock.advance(100);
      await until(() => completed);
      expect(b.snapshot().retries).toBe(2);
    });

    it('does not count a retry whose backoff was cut short (caller abort, unsubscription)', async () => {
      const { b, clock } = setup(constant100);
      const controller = new AbortController();
      const call = b.executePromise(
        (_signal: AbortSignal) => Promise.reject(new Transient()),
        controller.signal,
      );
      const outcome = call.catch(() => 'aborted');
      await waiting(clock);
      controller.abort();
      expect(await outcome).toBe('aborted');

      const sub = b
        .executeObservable(() => throwError(() => new Transient()))
        .subscribe({ error: () => undefined });
      await waiting(clock);
      sub.unsubscribe();
      expect(b.snapshot().retries).toBe(0);
    });

    it('counts an attempt refused by a circuit that opened meanwhile (it was made, and refused at once)', async () => {
      const { b, clock } = setup(
        { maxAttempts: 3, backoff: { type: 'constant', baseMs: 100, jitter: 'none' } },
        { failureThreshold: 1, halfOpenAfterMs: 60_000 },
      );
      await expect(b.executePromise(flaky(5))).rejects.toBeInstanceOf(CircuitOpenError);
      expect(clock.pendingSleeps).toBe(0);
      expect(b.snapshot()).toMatchObject({ retries: 1, failedCalls: 1, rejectedCalls: 1 });
    });

    it('never goes backwards: reset(), forceOpen() and a closing circuit keep the count', async () => {
      const { b, clock } = setup(constant100, { failureThreshold: 2, halfOpenAfterMs: 1_000 });
      let seen = 0;
      const check = () => {
        const now = b.snapshot().retries;
        expect(now).toBeGreaterThanOrEqual(seen);
        seen = now;
      };
      const call = b.executePromise(flaky(1));
      await waiting(clock);
      clock.advance(100);
      await call;
      check();
      b.forceOpen();
      check();
      b.reset();
      check();
      expect(seen).toBe(1);
    });

    it('stays 0 for a sync call, which cannot wait and is attempted once', () => {
      const { b } = setup(constant100);
      expect(() =>
        b.executeSync(() => {
          throw new Transient();
        }),
      ).toThrow(Transient);
      expect(b.snapshot().retries).toBe(0);
    });
  });
});

describe('retry and synchronous calls', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('gives a sync call one attempt (it cannot wait) and says so once per breaker name', () => {
    // A name of its own: the warning is once per name for the whole process.
    const b = createBreaker('inventory-sync', {
      failureThreshold: 100,
      retry: { maxAttempts: 3, backoff: { type: 'constant', baseMs: 100 } },
    });
    let attempts = 0;
    const failing = () => {
      attempts++;
      throw new TestError();
    };
    expect(() => b.executeSync(failing)).toThrow(TestError);
    expect(() => b.execute(failing)).toThrow(TestError);
    expect(attempts).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]).toEqual([
      'breaker "inventory-sync": retry (maxAttempts 3) does not apply to synchronous calls, which cannot wait between attempts; each gets one attempt',
      { code: 'EBREAKERCONFIG' },
    ]);
  });

  it('does not warn for Promise calls, which retry', async () => {
    const b = createBreaker('inventory-async', {
      retry: { maxAttempts: 2, backoff: { type: 'constant', baseMs: 0 } },
    });
    let attempts = 0;
    await expect(
      b.executePromise(async () => {
        if (++attempts < 2) throw new TestError();
        return 'ok';
      }),
    ).resolves.toBe('ok');
    expect(warn).not.toHaveBeenCalled();
  });
});
