import { Observable } from 'rxjs';
import {
  breakerSignal,
  CallTimeoutError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerOptions,
} from '../../lib/core';

function breaker(options: BreakerOptions = {}) {
  return createBreaker('inventory', { callTimeoutMs: 1_000, ...options }, { clock: new ManualClock() });
}

/** A Promise that never settles on its own; it reports the signal it was handed. */
function hanging(seen: { signal?: AbortSignal }) {
  return () => {
    seen.signal = breakerSignal();
    return new Promise<string>(() => undefined);
  };
}

describe('callTimeoutMs', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  it('fails a Promise call that runs longer with CallTimeoutError, counted as failure and timeout', async () => {
    const b = breaker();
    const seen: { signal?: AbortSignal } = {};
    const call = b.executePromise(hanging(seen));
    const outcome = call.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await jest.advanceTimersByTimeAsync(999);
    expect(b.snapshot().failedCalls).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error).toMatchObject({ code: 'ECALLTIMEOUT', breakerName: 'inventory', timeoutMs: 1_000 });
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, timeouts: 1, successfulCalls: 0 });
  });

  it('aborts the signal that breakerSignal() handed to the function, with the CallTimeoutError as reason', async () => {
    const b = breaker();
    const seen: { signal?: AbortSignal } = {};
    const call = b.executePromise(hanging(seen)).catch((e: unknown) => e);
    expect(seen.signal).toBeInstanceOf(AbortSignal);
    expect(seen.signal?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.signal?.reason).toBe(await call);
  });

  it('links the caller signal (the last argument) into the signal the function sees', async () => {
    const b = breaker();
    const caller = new AbortController();
    const seen: { signal?: AbortSignal } = {};
    const call = b
      .executePromise((_id: string, _signal: AbortSignal) => hanging(seen)(), 'sku-1', caller.signal)
      .catch((e: unknown) => e);
    expect(seen.signal).not.toBe(caller.signal);
    caller.abort(new Error('caller gave up'));
    expect(seen.signal?.aborted).toBe(true);
    expect((seen.signal?.reason as Error).message).toBe('caller gave up');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(await call).toBeInstanceOf(CallTimeoutError);
  });

  it('leaves a call that finishes in time alone: its value, a success, no abort and no timer left', async () => {
    const b = breaker();
    let signal: AbortSignal | undefined;
    const call = b.executePromise(() => {
      signal = breakerSignal();
      return new Promise<string>((resolve) => setTimeout(() => resolve('in time'), 999));
    });
    await jest.advanceTimersByTimeAsync(999);
    await expect(call).resolves.toBe('in time');
    await jest.advanceTimersByTimeAsync(5_000);
    expect(signal?.aborted).toBe(false);
    expect(b.snapshot()).toMatchObject({ successfulCalls: 1, failedCalls: 0, timeouts: 0 });
  });

  it('records nothing more when a timed-out call settles late', async () => {
    const b = breaker();
    const call = b
      .executePromise(() => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 3_000)))
      .catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(await call).toBeInstanceOf(CallTimeoutError);
    expect(b.snapshot()).toMatchObject({ successfulCalls: 0, failedCalls: 1, timeouts: 1 });
  });

  it('times out an Observable call, unsubscribes its source and aborts its signal', async () => {
    const b = breaker();
    let signal: AbortSignal | undefined;
    let tornDown = false;
    const source = () => {
      signal = breakerSignal();
      return new Observable<string>((s) => {
        s.next('first');
        return () => (tornDown = true);
      });
    };
    const values: string[] = [];
    const errors: unknown[] = [];
    b.executeObservable(source).subscribe({
      next: (v) => values.push(v),
      error: (e: unknown) => errors.push(e),
    });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(values).toEqual(['first']);
    expect(errors).toEqual([expect.any(CallTimeoutError)]);
    expect(tornDown).toBe(true);
    expect(signal?.aborted).toBe(true);
    expect(b.snapshot()).toMatchObject({ failedCalls: 1, timeouts: 1 });
  });

  it('clears the timer of an Observable call that is unsubscribed early (nothing recorded)', async () => {
    const b = breaker();
    const sub = b.executeObservable(() => new Observable<string>(() => undefined)).subscribe();
    expect(jest.getTimerCount()).toBe(1);
    sub.unsubscribe();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(b.snapshot()).toMatchObject({ failedCalls: 0, timeouts: 0, cancelledCalls: 1 });
  });

  it('opens the circuit on consecutive timeouts and re-opens on a timed-out probe', async () => {
    const clock = new ManualClock();
    const b = createBreaker(
      'inventory',
      { callTimeoutMs: 100, failureThreshold: 2, halfOpenAfterMs: 1_000 },
      { clock },
    );
    const never = () => new Promise<void>(() => undefined);
    const calls = [
      b.executePromise(never).catch((e: unknown) => e),
      b.executePromise(never).catch((e: unknown) => e),
    ];
    await jest.advanceTimersByTimeAsync(100);
    await Promise.all(calls);
    expect(b.state).toBe(CircuitState.OPEN);
    clock.advance(1_000);
    const probe = b.executePromise(never).catch((e: unknown) => e);
    expect(b.state).toBe(CircuitState.HALF_OPEN);
    await jest.advanceTimersByTimeAsync(100);
    expect(await probe).toBeInstanceOf(CallTimeoutError);
    expect(b.snapshot()).toMatchObject({ state: CircuitState.OPEN, openedCount: 2, timeouts: 3 });
  });

  it('applies through execute() as well (a Promise-returning function, shape discovered on the call)', async () => {
    const b = breaker();
    const seen: { signal?: AbortSignal } = {};
    const out = b.execute(hanging(seen));
    expect(out).toBeInstanceOf(Promise);
    const outcome = out.catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(await outcome).toBeInstanceOf(CallTimeoutError);
    expect(seen.signal?.aborted).toBe(true);
    expect(b.snapshot().timeouts).toBe(1);
  });

  it('does not apply to sync functions (they cannot be interrupted) and keeps them sync', () => {
    const b = breaker();
    expect(b.execute(() => 'sync')).toBe('sync');
    expect(jest.getTimerCount()).toBe(0);
  });
});
