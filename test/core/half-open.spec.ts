import {
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type Breaker,
  type BreakerOptions,
} from '../../lib/core';
import { failSync, succeedSync, TestError } from './support';

function opened(options: BreakerOptions, clock = new ManualClock(), random?: () => number) {
  const b = createBreaker('inventory', { failureThreshold: 1, ...options }, { clock, random });
  failSync(b);
  expect(b.state).toBe(CircuitState.OPEN);
  return { b, clock };
}

/** True when a call at the current time would be rejected without running. */
function rejects(b: Breaker): boolean {
  const fn = jest.fn(() => 'probe');
  try {
    b.executeSync(fn);
  } catch (error) {
    if (!(error instanceof CircuitOpenError)) throw error;
    expect(fn).not.toHaveBeenCalled();
    return true;
  }
  return false;
}

describe('OPEN → HALF_OPEN', () => {
  it('keeps rejecting until halfOpenAfterMs has elapsed since opening', () => {
    const { b, clock } = opened({ halfOpenAfterMs: 10_000 });
    clock.advance(9_999);
    expect(rejects(b)).toBe(true);
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('stays OPEN once halfOpenAfterMs has elapsed, until a call arrives (no timer moves it)', () => {
    const { b, clock } = opened({ halfOpenAfterMs: 10_000 });
    clock.advance(60_000);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot()).toMatchObject({ state: CircuitState.OPEN, retryAfterMs: 0 });
  });

  it('turns HALF_OPEN on the first call once now - openedAt >= halfOpenAfterMs, and runs that call as a probe', () => {
    const { b, clock } = opened({ halfOpenAfterMs: 10_000, successThreshold: 2 });
    clock.advance(10_000);
    const probe = jest.fn(() => 'fresh');
    expect(b.executeSync(probe)).toBe('fresh');
    expect(probe).toHaveBeenCalledTimes(1);
    expect(b.state).toBe(CircuitState.HALF_OPEN);
    expect(b.snapshot().lastTransitionAt).toBe(10_000);
  });
});

describe('HALF_OPEN → CLOSED', () => {
  it('closes after successThreshold successful probes', () => {
    const { b, clock } = opened({ halfOpenAfterMs: 1_000, successThreshold: 3 });
    clock.advance(1_000);
    succeedSync(b, 1);
    succeedSync(b, 2);
    expect(b.state).toBe(CircuitState.HALF_OPEN);
    succeedSync(b, 3);
    expect(b.state).toBe(CircuitState.CLOSED);
  });

  it('clears the window and the consecutive count when it closes', () => {
    const clock = new ManualClock();
    const b = createBreaker(
      'inventory',
      {
        failureThreshold: 3,
        failureRateThreshold: 90,
        minimumCalls: 5,
        window: { type: 'count', size: 10 },
        halfOpenAfterMs: 1_000,
        successThreshold: 1,
      },
      { clock },
    );
    succeedSync(b, 0);
    failSync(b);
    failSync(b);
    failSync(b);
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.OPEN,
      bufferedCalls: 4,
      consecutiveFailures: 3,
    });
    clock.advance(1_000);
    succeedSync(b, 'probe');
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      bufferedCalls: 0,
      consecutiveFailures: 0,
    });
    // With the old failures gone, two failures are not enough to trip again.
    failSync(b);
    failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
  });

  it('judges probes on their own: they are not recorded in the window', () => {
    const { b, clock } = opened({
      failureRateThreshold: 50,
      window: { type: 'count', size: 10 },
      minimumCalls: 1,
      halfOpenAfterMs: 1_000,
      successThreshold: 3,
    });
    expect(b.snapshot().bufferedCalls).toBe(1);
    clock.advance(1_000);
    succeedSync(b, 1);
    succeedSync(b, 2);
    expect(b.snapshot().bufferedCalls).toBe(1);
  });
});

describe('HALF_OPEN → OPEN', () => {
  it('re-opens when a half-open probe fails, and openedCount counts the re-opening', () => {
    const { b, clock } = opened({ halfOpenAfterMs: 1_000, successThreshold: 2 });
    clock.advance(1_000);
    succeedSync(b, 'first probe');
    expect(failSync(b)).toBeInstanceOf(TestError);
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot().openedCount).toBe(2);
  });

  it('starts a new OPEN period at the failed probe: the next probe waits halfOpenAfterMs again', () => {
    const { b, clock } = opened({ halfOpenAfterMs: 1_000 });
    clock.advance(5_000);
    failSync(b);
    expect(b.snapshot().retryAfterMs).toBe(1_000);
    clock.advance(999);
    expect(rejects(b)).toBe(true);
    clock.advance(1);
    expect(rejects(b)).toBe(false);
  });

  it('counts a slow probe as failed when slow-call trips are configured', () => {
    const clock = new ManualClock();
    const { b } = opened(
      { halfOpenAfterMs: 1_000, successThreshold: 1, slowCallDurationMs: 100, slowCallRateThreshold: 50 },
      clock,
    );
    clock.advance(1_000);
    const result = b.executeSync(() => {
      clock.advance(101);
      return 'late';
    });
    expect(result).toBe('late');
    expect(b.state).toBe(CircuitState.OPEN);
    expect(b.snapshot()).toMatchObject({ openedCount: 2, slowCalls: 1 });
  });

  it('counts a slow probe as a success when only slowCallDurationMs is set (no slow trip)', () => {
    const clock = new ManualClock();
    const { b } = opened({ halfOpenAfterMs: 1_000, successThreshold: 1, slowCallDurationMs: 100 }, clock);
    clock.advance(1_000);
    b.executeSync(() => {
      clock.advance(500);
      return 'late';
    });
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot().slowCalls).toBe(1);
  });
});

describe('halfOpenBackoff', () => {
  /** Fails one probe (the call after the current OPEN period), returning how long the next OPEN lasts. */
  function failProbeAfter(b: Breaker, clock: ManualClock): number {
    clock.advance(b.snapshot().retryAfterMs);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
    return b.snapshot().retryAfterMs;
  }

  it('makes the n-th consecutive opening last min(maxMs, halfOpenAfterMs * multiplier^(n-1))', () => {
    const { b, clock } = opened({
      halfOpenAfterMs: 1_000,
      halfOpenBackoff: { multiplier: 3, maxMs: 20_000 },
    });
    expect(b.snapshot().retryAfterMs).toBe(1_000);
    expect(failProbeAfter(b, clock)).toBe(3_000);
    expect(failProbeAfter(b, clock)).toBe(9_000);
    expect(failProbeAfter(b, clock)).toBe(20_000);
    expect(failProbeAfter(b, clock)).toBe(20_000);
  });

  it('admits the probe exactly when the lengthened OPEN period ends', () => {
    const { b, clock } = opened({
      halfOpenAfterMs: 1_000,
      halfOpenBackoff: { multiplier: 2, maxMs: 60_000 },
    });
    failProbeAfter(b, clock);
    clock.advance(1_999);
    expect(rejects(b)).toBe(true);
    clock.advance(1);
    expect(rejects(b)).toBe(false);
  });

  it('applies ± jitter (a fraction) drawn from the injected random source', () => {
    const draws = [0, 1, 0.75];
    const random = jest.fn(() => draws.shift() ?? 0.5);
    const { b, clock } = opened(
      { halfOpenAfterMs: 1_000, halfOpenBackoff: { multiplier: 2, maxMs: 60_000, jitter: 0.5 } },
      new ManualClock(),
      random,
    );
    // n = 1: 1000 * (1 + 0.5 * (2 * 0 - 1)) = 500
    expect(b.snapshot().retryAfterMs).toBe(500);
    // n = 2: 2000 * (1 + 0.5 * (2 * 1 - 1)) = 3000
    expect(failProbeAfter(b, clock)).toBe(3_000);
    // n = 3: 4000 * (1 + 0.5 * (2 * 0.75 - 1)) = 5000
    expect(failProbeAfter(b, clock)).toBe(5_000);
    expect(random).toHaveBeenCalledTimes(3);
  });

  it('calls the function form with n, starting at 1 for the first opening', () => {
    const backoff = jest.fn((n: number) => n * 7_000);
    const { b, clock } = opened({ halfOpenAfterMs: 1_000, halfOpenBackoff: backoff });
    expect(b.snapshot().retryAfterMs).toBe(7_000);
    expect(failProbeAfter(b, clock)).toBe(14_000);
    expect(failProbeAfter(b, clock)).toBe(21_000);
    expect(backoff.mock.calls.map(([n]) => n)).toEqual([1, 2, 3]);
  });

  it('restarts the count once the breaker closes', () => {
    const backoff = jest.fn((n: number) => n * 1_000);
    const { b, clock } = opened({ halfOpenAfterMs: 1_000, halfOpenBackoff: backoff, successThreshold: 1 });
    failProbeAfter(b, clock);
    clock.advance(b.snapshot().retryAfterMs);
    succeedSync(b, 'probe');
    expect(b.state).toBe(CircuitState.CLOSED);
    failSync(b);
    expect(b.snapshot().retryAfterMs).toBe(1_000);
    expect(backoff.mock.calls.map(([n]) => n)).toEqual([1, 2, 1]);
  });
});
