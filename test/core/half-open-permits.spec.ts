import { NEVER, Subject } from 'rxjs';
import {
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerOptions,
} from '../../lib/core';
import { deferred, failSync, TestError, type Deferred } from './support';

class Ignorable extends Error {}

/** A breaker that has just become due for probes (the next call turns it HALF_OPEN). */
function dueForProbes(options: BreakerOptions) {
  const clock = new ManualClock();
  const b = createBreaker(
    'inventory',
    { failureThreshold: 1, halfOpenAfterMs: 1_000, ...options },
    { clock },
  );
  failSync(b);
  clock.advance(1_000);
  return b;
}

describe('half-open permits', () => {
  it('admits exactly halfOpenMaxCalls of 1,000 concurrent calls and rejects the other 997 at once', async () => {
    const b = dueForProbes({ halfOpenMaxCalls: 3, successThreshold: 3 });
    const probes: Deferred<string>[] = [];
    const fn = jest.fn(() => {
      const d = deferred<string>();
      probes.push(d);
      return d.promise;
    });
    const calls = Array.from({ length: 1_000 }, () => b.executePromise(fn));

    expect(fn).toHaveBeenCalledTimes(3);
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.HALF_OPEN,
      halfOpenInFlight: 3,
      rejectedCalls: 997,
    });
    // The 997 settle while the 3 probes are still running: nobody waits for a probe's verdict.
    const rejected = await Promise.allSettled(calls.slice(3));
    expect(rejected.every((r) => r.status === 'rejected' && r.reason instanceof CircuitOpenError)).toBe(true);
    expect(rejected[0]).toMatchObject({ reason: { state: CircuitState.HALF_OPEN, retryAfterMs: 0 } });

    probes.forEach((p, i) => p.resolve(`probe ${i}`));
    await expect(Promise.all(calls.slice(0, 3))).resolves.toEqual(['probe 0', 'probe 1', 'probe 2']);
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot()).toMatchObject({ totalCalls: 1_001, successfulCalls: 3, rejectedCalls: 997 });
  });

  it('gives a probe permit back when the probe ends in an ignored error', async () => {
    const b = dueForProbes({ halfOpenMaxCalls: 1, isFailure: (e) => !(e instanceof Ignorable) });
    await expect(b.executePromise(() => Promise.reject(new Ignorable()))).rejects.toBeInstanceOf(Ignorable);
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.HALF_OPEN,
      halfOpenInFlight: 0,
      ignoredCalls: 1,
    });
    const probe = jest.fn(() => Promise.resolve('admitted'));
    await expect(b.executePromise(probe)).resolves.toBe('admitted');
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('gives a probe permit back when a sync probe throws an ignored error', () => {
    const b = dueForProbes({ halfOpenMaxCalls: 1, ignoreErrors: [Ignorable] });
    failSync(b, new Ignorable());
    expect(b.executeSync(() => 'admitted')).toBe('admitted');
  });

  it('gives a probe permit back when an Observable probe is unsubscribed before it finishes', () => {
    const b = dueForProbes({ halfOpenMaxCalls: 1 });
    const first = b.executeObservable(() => NEVER).subscribe();
    expect(b.snapshot()).toMatchObject({ state: CircuitState.HALF_OPEN, halfOpenInFlight: 1 });

    const errors: unknown[] = [];
    b.executeObservable(() => NEVER).subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors).toEqual([expect.any(CircuitOpenError)]);

    first.unsubscribe();
    // failedCalls: only the call that opened the circuit.
    expect(b.snapshot()).toMatchObject({
      halfOpenInFlight: 0,
      successfulCalls: 0,
      failedCalls: 1,
      cancelledCalls: 1,
    });
    const source = new Subject<string>();
    const values: string[] = [];
    b.executeObservable(() => source).subscribe((v) => values.push(v));
    source.next('admitted');
    source.complete();
    expect(values).toEqual(['admitted']);
  });

  it('re-opens on the first failed probe while other probes are still running, and ignores their late outcomes', async () => {
    const b = dueForProbes({ halfOpenMaxCalls: 2, successThreshold: 2 });
    const slow = deferred<string>();
    const running = b.executePromise(() => slow.promise);
    await expect(b.executePromise(() => Promise.reject(new TestError()))).rejects.toBeInstanceOf(TestError);
    expect(b.state).toBe(CircuitState.OPEN);
    slow.resolve('late');
    await expect(running).resolves.toBe('late');
    expect(b.snapshot()).toMatchObject({ state: CircuitState.OPEN, openedCount: 2, successfulCalls: 1 });
  });
});
