import {
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerSnapshot,
} from '../../lib/core';
import { deferred, failSync, succeedSync, TestError } from './support';

const CUMULATIVE = [
  'totalCalls',
  'successfulCalls',
  'failedCalls',
  'rejectedCalls',
  'ignoredCalls',
  'slowCalls',
  'timeouts',
  'fallbacks',
  'retries',
  'openedCount',
] as const;

function cumulative(s: BreakerSnapshot): Record<string, number> {
  return Object.fromEntries(CUMULATIVE.map((k) => [k, s[k]]));
}

describe('FORCED_OPEN', () => {
  it('rejects every call, however long it lasts, until reset()', () => {
    const clock = new ManualClock();
    const b = createBreaker('payment', { halfOpenAfterMs: 1_000 }, { clock });
    b.forceOpen();
    expect(b.state).toBe(CircuitState.FORCED_OPEN);
    clock.advance(1_000_000);
    const fn = jest.fn(() => 1);
    expect(() => b.executeSync(fn)).toThrow(CircuitOpenError);
    expect(fn).not.toHaveBeenCalled();
    b.reset();
    expect(b.executeSync(fn)).toBe(1);
  });

  it('rejects with state FORCED_OPEN and retryAfterMs 0 (no probe is coming)', () => {
    const b = createBreaker('payment', {}, { clock: new ManualClock() });
    b.forceOpen();
    let thrown: unknown;
    try {
      b.executeSync(() => 1);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ state: CircuitState.FORCED_OPEN, retryAfterMs: 0 });
    expect(b.snapshot()).toMatchObject({ retryAfterMs: 0, rejectedCalls: 1, totalCalls: 1 });
  });
});

describe('DISABLED', () => {
  it('lets every call through, never trips and records nothing', () => {
    const b = createBreaker('payment', { failureThreshold: 1 }, { clock: new ManualClock() });
    b.disable();
    const before = b.snapshot();
    for (let i = 0; i < 10; i++) failSync(b);
    expect(succeedSync(b, 'through')).toBe('through');
    const after = b.snapshot();
    expect(after.state).toBe(CircuitState.DISABLED);
    expect(cumulative(after)).toEqual(cumulative(before));
    expect(after.consecutiveFailures).toBe(0);
  });

  it('records nothing for a call let through while DISABLED that ends after the state changed', async () => {
    const b = createBreaker('payment', { failureThreshold: 1 }, { clock: new ManualClock() });
    b.disable();
    const succeeding = deferred<string>();
    const failing = deferred<string>();
    const ok = b.executePromise(() => succeeding.promise);
    const ko = b.executePromise(() => failing.promise);
    b.reset();
    succeeding.resolve('late');
    failing.reject(new TestError());
    await expect(ok).resolves.toBe('late');
    await expect(ko).rejects.toBeInstanceOf(TestError);
    const after = b.snapshot();
    expect(cumulative(after)).toEqual(cumulative(createBreaker('fresh').snapshot()));
    expect(after.state).toBe(CircuitState.CLOSED);
  });
});

describe('METRICS_ONLY', () => {
  it('records every call in the counters and the window but never trips', () => {
    const b = createBreaker(
      'payment',
      { failureThreshold: 2, failureRateThreshold: 10, minimumCalls: 2, window: { type: 'count', size: 10 } },
      { clock: new ManualClock() },
    );
    b.metricsOnly();
    for (let i = 0; i < 6; i++) failSync(b);
    succeedSync(b, 1);
    succeedSync(b, 2);
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.METRICS_ONLY,
      totalCalls: 8,
      failedCalls: 6,
      successfulCalls: 2,
      bufferedCalls: 8,
      failureRate: 75,
      openedCount: 0,
    });
  });
});

describe('reset()', () => {
  it('returns an OPEN breaker to CLOSED, the window and consecutive count cleared', () => {
    const b = createBreaker(
      'payment',
      { failureThreshold: 3, failureRateThreshold: 50, minimumCalls: 4, window: { type: 'count', size: 4 } },
      { clock: new ManualClock() },
    );
    succeedSync(b, 1);
    failSync(b);
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
    b.reset();
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      bufferedCalls: 0,
      consecutiveFailures: 0,
    });
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
  });

  it('never takes the cumulative counters backwards', () => {
    const clock = new ManualClock();
    const b = createBreaker(
      'payment',
      { failureThreshold: 2, isFailure: (e) => !(e instanceof RangeError) },
      { clock },
    );
    succeedSync(b, 1);
    failSync(b, new RangeError('ignored'));
    failSync(b);
    failSync(b);
    expect(() => succeedSync(b, 'rejected')).toThrow(CircuitOpenError);
    const before = cumulative(b.snapshot());
    expect(before).toMatchObject({ totalCalls: 5, rejectedCalls: 1, ignoredCalls: 1, openedCount: 1 });
    b.reset();
    expect(cumulative(b.snapshot())).toEqual(before);
    b.forceOpen();
    b.disable();
    b.metricsOnly();
    b.reset();
    expect(cumulative(b.snapshot())).toEqual(before);
  });

  it('records the transition time as lastTransitionAt', () => {
    const clock = new ManualClock(1_000);
    const b = createBreaker('payment', {}, { clock });
    expect(b.snapshot().lastTransitionAt).toBe(1_000);
    clock.advance(500);
    b.forceOpen();
    clock.advance(500);
    b.reset();
    expect(b.snapshot().lastTransitionAt).toBe(2_000);
  });

  it('ignores the late outcome of a call that started before the state changed', async () => {
    const b = createBreaker('payment', { failureThreshold: 1 }, { clock: new ManualClock() });
    const pending = deferred<string>();
    const call = b.executePromise(() => pending.promise);
    b.forceOpen();
    b.reset();
    pending.reject(new TestError());
    await expect(call).rejects.toBeInstanceOf(TestError);
    // Counted as a failure, but the new CLOSED period neither sees it nor trips on it.
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      failedCalls: 1,
      consecutiveFailures: 0,
    });
  });
});

describe('manual states are idempotent', () => {
  function watched() {
    const clock = new ManualClock(1_000);
    const b = createBreaker(
      'payment',
      { failureThreshold: 3, window: { type: 'count', size: 10 } },
      { clock },
    );
    const changes: string[] = [];
    b.stateChanges$.subscribe((e) => changes.push(`${e.from} -> ${e.to}`));
    return { b, clock, changes };
  }

  it.each([
    ['forceOpen', CircuitState.FORCED_OPEN],
    ['disable', CircuitState.DISABLED],
    ['metricsOnly', CircuitState.METRICS_ONLY],
  ] as const)(
    '%s() in the state it sets changes nothing: no event, lastTransitionAt kept',
    (method, state) => {
      const { b, clock, changes } = watched();
      b[method]();
      if (state === CircuitState.METRICS_ONLY) failSync(b);
      const before = b.snapshot();
      clock.advance(500);
      b[method]();
      expect(changes).toEqual([`closed -> ${state}`]);
      expect(b.snapshot()).toEqual(before);
      expect(b.snapshot().lastTransitionAt).toBe(1_000);
    },
  );

  it('reset() in CLOSED clears the window and the consecutive count without a state_change', () => {
    const { b, clock, changes } = watched();
    failSync(b);
    failSync(b);
    clock.advance(500);
    b.reset();
    expect(changes).toEqual([]);
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      consecutiveFailures: 0,
      bufferedCalls: 0,
      failedCalls: 2,
      lastTransitionAt: 1_000,
    });
  });

  it('lets a call in flight across reset() in CLOSED record normally, into the fresh window', async () => {
    const { b } = watched();
    failSync(b);
    const pending = deferred<string>();
    const call = b.executePromise(() => pending.promise);
    b.reset();
    pending.reject(new TestError());
    await expect(call).rejects.toBeInstanceOf(TestError);
    expect(b.snapshot()).toMatchObject({ consecutiveFailures: 1, bufferedCalls: 1, failedCalls: 2 });
  });

  it('lets a call in flight across a repeated metricsOnly() record its outcome', async () => {
    const { b } = watched();
    b.metricsOnly();
    const pending = deferred<string>();
    const call = b.executePromise(() => pending.promise);
    b.metricsOnly();
    pending.reject(new TestError());
    await expect(call).rejects.toBeInstanceOf(TestError);
    expect(b.snapshot()).toMatchObject({ consecutiveFailures: 1, bufferedCalls: 1 });
  });
});
