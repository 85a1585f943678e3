import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CircuitOpenError, CircuitState, createBreaker, ManualClock } from '../../lib/core';
import { failSync, succeedSync } from './support';

describe('snapshot()', () => {
  it('starts at zero: CLOSED, successRate 0 with no calls, failureRate -1, lastTransitionAt = creation time', () => {
    const clock = new ManualClock(1_234);
    const b = createBreaker('payment', { failureRateThreshold: 50 }, { clock });
    expect(b.snapshot()).toEqual({
      name: 'payment',
      state: CircuitState.CLOSED,
      totalCalls: 0,
      successfulCalls: 0,
      failedCalls: 0,
      rejectedCalls: 0,
      ignoredCalls: 0,
      cancelledCalls: 0,
      slowCalls: 0,
      timeouts: 0,
      fallbacks: 0,
      retries: 0,
      throttledCalls: 0,
      throttleProbability: 0,
      failureRate: -1,
      slowCallRate: -1,
      bufferedCalls: 0,
      successRate: 0,
      consecutiveFailures: 0,
      openedCount: 0,
      lastTransitionAt: 1_234,
      retryAfterMs: 0,
      halfOpenInFlight: 0,
      bulkheadActive: 0,
      bulkheadQueued: 0,
      store: 'memory',
    });
  });

  it('counts every call that reached the breaker in totalCalls, rejected and ignored ones included', () => {
    const b = createBreaker(
      'payment',
      { failureThreshold: 2, ignoreErrors: [RangeError] },
      { clock: new ManualClock() },
    );
    succeedSync(b, 1);
    failSync(b, new RangeError());
    failSync(b);
    failSync(b);
    expect(() => succeedSync(b, 2)).toThrow(CircuitOpenError);
    expect(() => succeedSync(b, 3)).toThrow(CircuitOpenError);
    expect(b.snapshot()).toMatchObject({
      totalCalls: 6,
      successfulCalls: 1,
      ignoredCalls: 1,
      failedCalls: 2,
      rejectedCalls: 2,
    });
  });

  it('computes successRate as successfulCalls / totalCalls * 100', () => {
    const b = createBreaker('payment', { failureThreshold: 100 }, { clock: new ManualClock() });
    succeedSync(b, 1);
    failSync(b);
    failSync(b);
    expect(b.snapshot().successRate).toBeCloseTo(33.33, 2);
    succeedSync(b, 2);
    expect(b.snapshot().successRate).toBe(50);
  });

  it('reports failureRate -1 below minimumCalls, then the percent over the window', () => {
    const b = createBreaker(
      'payment',
      {
        failureThreshold: 100,
        failureRateThreshold: 90,
        minimumCalls: 4,
        window: { type: 'count', size: 8 },
      },
      { clock: new ManualClock() },
    );
    failSync(b);
    succeedSync(b, 1);
    succeedSync(b, 2);
    expect(b.snapshot()).toMatchObject({ failureRate: -1, bufferedCalls: 3 });
    succeedSync(b, 3);
    expect(b.snapshot()).toMatchObject({ failureRate: 25, bufferedCalls: 4 });
  });

  it('reports failureRate -1 when no rate trip is configured (there is no window)', () => {
    const b = createBreaker(
      'payment',
      { failureThreshold: 100, minimumCalls: 1 },
      { clock: new ManualClock() },
    );
    failSync(b);
    expect(b.snapshot()).toMatchObject({ failureRate: -1, bufferedCalls: 0 });
  });

  it('reports slowCallRate over the window', () => {
    const clock = new ManualClock();
    const b = createBreaker(
      'payment',
      {
        slowCallDurationMs: 10,
        slowCallRateThreshold: 100,
        minimumCalls: 4,
        window: { type: 'count', size: 4 },
      },
      { clock },
    );
    b.executeSync(() => clock.advance(11));
    for (let i = 0; i < 3; i++) succeedSync(b, i);
    expect(b.snapshot()).toMatchObject({ slowCallRate: 25, slowCalls: 1 });
  });

  it('counts down retryAfterMs while OPEN, reaching 0 when a probe is allowed, and is 0 in other states', () => {
    const clock = new ManualClock();
    const b = createBreaker('payment', { failureThreshold: 1, halfOpenAfterMs: 5_000 }, { clock });
    expect(b.snapshot().retryAfterMs).toBe(0);
    failSync(b);
    expect(b.snapshot().retryAfterMs).toBe(5_000);
    clock.advance(3_000);
    expect(b.snapshot().retryAfterMs).toBe(2_000);
    clock.advance(10_000);
    expect(b.snapshot()).toMatchObject({ state: CircuitState.OPEN, retryAfterMs: 0 });
    b.forceOpen();
    expect(b.snapshot().retryAfterMs).toBe(0);
  });

  it('reads a fresh copy each time (mutating a snapshot changes nothing)', () => {
    const b = createBreaker('payment', {}, { clock: new ManualClock() });
    const s = b.snapshot();
    s.totalCalls = 99;
    expect(b.snapshot().totalCalls).toBe(0);
  });

  it("is documented field by field in the README's snapshot table, and the table names no other field", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('**Snapshots**'));
    const rows = table.slice(0, table.indexOf('\n\n', table.indexOf('| field')));
    const documented = [...rows.matchAll(/^\| ([^|]+)\|/gm)]
      .flatMap((m) => [...m[1].matchAll(/`(\w+)`/g)].map((f) => f[1]))
      .sort();
    const fields = Object.keys(createBreaker('payment', {}, { clock: new ManualClock() }).snapshot()).sort();
    expect(documented).toEqual(fields);
  });
});
