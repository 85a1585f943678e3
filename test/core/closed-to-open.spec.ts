import {
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerEvent,
} from '../../lib/core';
import { failSync, succeedSync, TestError } from './support';

function slowCall(clock: ManualClock, ms: number) {
  return () => {
    clock.advance(ms);
    return 'slow';
  };
}

describe('CLOSED → OPEN: the consecutive-failure trip', () => {
  it('opens on the failureThreshold-th consecutive failure', () => {
    const b = createBreaker('payment', { failureThreshold: 3 }, { clock: new ManualClock() });
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot().consecutiveFailures).toBe(2);
    expect(failSync(b)).toBeInstanceOf(TestError);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot().openedCount).toBe(1);
  });

  it('restarts the consecutive count after a success', () => {
    const b = createBreaker('payment', { failureThreshold: 3 }, { clock: new ManualClock() });
    failSync(b);
    failSync(b);
    succeedSync(b, 'ok');
    expect(b.snapshot().consecutiveFailures).toBe(0);
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('rejects the next call with CircuitOpenError without running the function', () => {
    const clock = new ManualClock(5_000);
    const b = createBreaker('payment', { failureThreshold: 1, halfOpenAfterMs: 30_000 }, { clock });
    failSync(b);
    clock.advance(1_000);
    const fn = jest.fn(() => 'never');
    let thrown: unknown;
    try {
      b.executeSync(fn);
    } catch (error) {
      thrown = error;
    }
    expect(fn).not.toHaveBeenCalled();
    expect(thrown).toBeInstanceOf(CircuitOpenError);
    expect(thrown).toMatchObject({
      code: 'ECIRCUITOPEN',
      breakerName: 'payment',
      state: CircuitState.OPEN,
      retryAfterMs: 29_000,
    });
    expect(b.snapshot().rejectedCalls).toBe(1);
  });
});

describe('CLOSED → OPEN: the failure-rate trip', () => {
  const rateOnly = {
    failureThreshold: Infinity,
    failureRateThreshold: 50,
    window: { type: 'count', size: 100 },
    minimumCalls: 100,
  } as const;

  it('opens when 50 of 100 calls failed at failureRateThreshold 50, the last call being a success', () => {
    const b = createBreaker('payment', rateOnly, { clock: new ManualClock() });
    for (let i = 0; i < 50; i++) failSync(b);
    for (let i = 0; i < 49; i++) succeedSync(b, i);
    expect(b.state).toBe(CircuitState.CLOSED);
    succeedSync(b, 'the 100th');
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('opens when 50 of 100 calls failed at failureRateThreshold 50, the last call being a failure', () => {
    const b = createBreaker('payment', rateOnly, { clock: new ManualClock() });
    for (let i = 0; i < 50; i++) succeedSync(b, i);
    for (let i = 0; i < 49; i++) failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('stays closed at 49 of 100', () => {
    const b = createBreaker('payment', rateOnly, { clock: new ManualClock() });
    for (let i = 0; i < 49; i++) failSync(b);
    for (let i = 0; i < 51; i++) succeedSync(b, i);
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot().failureRate).toBe(49);
  });

  it('does not trip before minimumCalls calls are in the window, however high the rate', () => {
    const b = createBreaker(
      'payment',
      {
        failureThreshold: Infinity,
        failureRateThreshold: 50,
        minimumCalls: 5,
        window: { type: 'count', size: 10 },
      },
      { clock: new ManualClock() },
    );
    for (let i = 0; i < 4; i++) failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot().failureRate).toBe(-1);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('trips over a time window as well', () => {
    const clock = new ManualClock();
    const b = createBreaker(
      'payment',
      {
        failureThreshold: Infinity,
        failureRateThreshold: 50,
        minimumCalls: 4,
        window: { type: 'time', sizeMs: 10_000 },
      },
      { clock },
    );
    succeedSync(b, 1);
    clock.advance(1_000);
    failSync(b);
    clock.advance(1_000);
    succeedSync(b, 2);
    expect(b.state).toBe(CircuitState.CLOSED);
    clock.advance(1_000);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
  });
});

describe('CLOSED → OPEN: the slow-call-rate trip', () => {
  const slowTrip = {
    failureThreshold: Infinity,
    slowCallDurationMs: 1_000,
    slowCallRateThreshold: 50,
    minimumCalls: 4,
    window: { type: 'count', size: 4 },
  } as const;

  it('opens when the share of calls slower than slowCallDurationMs reaches slowCallRateThreshold', () => {
    const clock = new ManualClock();
    const b = createBreaker('search', slowTrip, { clock });
    b.executeSync(slowCall(clock, 1_001));
    succeedSync(b, 'fast');
    succeedSync(b, 'fast');
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.executeSync(slowCall(clock, 5_000))).toBe('slow');
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot()).toMatchObject({ slowCalls: 2, successfulCalls: 4, failedCalls: 0 });
  });

  it('does not count a call that lasts exactly slowCallDurationMs as slow', () => {
    const clock = new ManualClock();
    const b = createBreaker('search', slowTrip, { clock });
    for (let i = 0; i < 4; i++) b.executeSync(slowCall(clock, 1_000));
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot().slowCalls).toBe(0);
  });

  it('counts slow failures towards the slow-call rate too', () => {
    const clock = new ManualClock();
    const b = createBreaker('search', { ...slowTrip, failureRateThreshold: 100 }, { clock });
    const slowFailure = () => {
      clock.advance(2_000);
      throw new TestError();
    };
    succeedSync(b, 1);
    succeedSync(b, 2);
    expect(() => b.executeSync(slowFailure)).toThrow(TestError);
    expect(() => b.executeSync(slowFailure)).toThrow(TestError);
    expect(b.state).toBe(CircuitState.OPEN);
  });
});

describe('CLOSED → OPEN with both trips configured: whichever fires first opens', () => {
  function build(clock: ManualClock) {
    const b = createBreaker(
      'payment',
      { failureThreshold: 3, failureRateThreshold: 50, minimumCalls: 4, window: { type: 'count', size: 4 } },
      { clock },
    );
    const reasons: string[] = [];
    b.stateChanges$.subscribe((e: BreakerEvent) => reasons.push(e.reason ?? ''));
    return { b, reasons };
  }

  it('the consecutive trip, when three failures come before minimumCalls', () => {
    const { b, reasons } = build(new ManualClock());
    failSync(b);
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(reasons).toEqual([expect.stringMatching(/3 consecutive failures/)]);
  });

  it('the rate trip, when failures alternate with successes', () => {
    const { b, reasons } = build(new ManualClock());
    failSync(b);
    succeedSync(b, 1);
    failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
    succeedSync(b, 2);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot().consecutiveFailures).toBe(0);
    expect(reasons).toEqual([expect.stringMatching(/failure rate 50% >= 50%/)]);
  });

  it('opens only once when both would fire on the same call', () => {
    const { b, reasons } = build(new ManualClock());
    succeedSync(b, 1);
    failSync(b);
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot().openedCount).toBe(1);
    expect(reasons).toHaveLength(1);
  });
});

describe('a success that trips a count-window rate', () => {
  it('opens at the current time, so the OPEN period starts then (no call timing needed)', () => {
    const clock = new ManualClock(5_000);
    const b = createBreaker(
      'catalogue',
      {
        failureThreshold: Infinity,
        failureRateThreshold: 25,
        minimumCalls: 4,
        window: { type: 'count', size: 4 },
        halfOpenAfterMs: 1_000,
      },
      { clock },
    );
    b.executeSync(() => 'ok');
    b.executeSync(() => 'ok');
    expect(() =>
      b.executeSync(() => {
        throw new Error('down');
      }),
    ).toThrow('down');
    clock.advance(250);
    b.executeSync(() => 'ok'); // the 4th call brings the window to minimumCalls: 1 of 4 failed = 25%
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot()).toMatchObject({ lastTransitionAt: 5_250, retryAfterMs: 1_000 });
  });
});
