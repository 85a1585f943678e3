import { CircuitState, createBreaker, ManualClock } from '../../lib/core';
import { CountWindow, TimeWindow } from '../../lib/core/sliding-window';
import { failSync, succeedSync } from './support';

function totals(w: { total: number; failures: number; slow: number }) {
  return { total: w.total, failures: w.failures, slow: w.slow };
}

describe('CountWindow', () => {
  it('keeps running totals of the outcomes recorded so far', () => {
    const w = new CountWindow(4);
    w.record(0, true, false);
    w.record(0, false, true);
    w.record(0, true, true);
    expect(totals(w)).toEqual({ total: 3, failures: 2, slow: 2 });
  });

  it('keeps only the last `size` outcomes: each new one pushes out the oldest', () => {
    const w = new CountWindow(3);
    w.record(0, true, true); // pushed out by the 4th
    w.record(0, false, false);
    w.record(0, true, false);
    w.record(0, false, false);
    expect(totals(w)).toEqual({ total: 3, failures: 1, slow: 0 });
    w.record(0, false, true); // pushes out the 2nd (a plain success)
    expect(totals(w)).toEqual({ total: 3, failures: 1, slow: 1 });
    w.record(0, false, false); // pushes out the 3rd (the failure)
    expect(totals(w)).toEqual({ total: 3, failures: 0, slow: 1 });
  });

  it('wraps around the ring any number of times without drifting', () => {
    const w = new CountWindow(7);
    for (let i = 0; i < 1_000; i++) w.record(0, i % 3 === 0, i % 5 === 0);
    // The last 7 are i = 993..999: failures at 993, 996, 999; slow at 995.
    expect(totals(w)).toEqual({ total: 7, failures: 3, slow: 1 });
  });

  it('never expires by time, and clear() empties it', () => {
    const w = new CountWindow(2);
    w.record(0, true, false);
    w.expire();
    expect(w.total).toBe(1);
    w.clear();
    expect(totals(w)).toEqual({ total: 0, failures: 0, slow: 0 });
    w.record(0, false, false);
    w.record(0, true, false);
    w.record(0, true, false);
    expect(totals(w)).toEqual({ total: 2, failures: 2, slow: 0 });
  });
});

describe('TimeWindow (sizeMs 1000, 10 buckets of 100 ms, aligned on the clock)', () => {
  it('keeps an outcome while its bucket is fewer than `buckets` buckets older than the current one', () => {
    const w = new TimeWindow(1_000, 10);
    w.record(50, true, false); // bucket 0
    w.expire(999); // bucket 9: 9 buckets older
    expect(totals(w)).toEqual({ total: 1, failures: 1, slow: 0 });
    w.expire(1_000); // bucket 10: 10 buckets older, so it leaves
    expect(totals(w)).toEqual({ total: 0, failures: 0, slow: 0 });
  });

  it('drops buckets one by one as time moves on', () => {
    const w = new TimeWindow(1_000, 10);
    w.record(0, true, false); // bucket 0
    w.record(250, false, true); // bucket 2
    w.record(299, true, true); // bucket 2
    w.record(900, false, false); // bucket 9
    expect(totals(w)).toEqual({ total: 4, failures: 2, slow: 2 });
    w.expire(1_100); // bucket 11: bucket 0 (and empty bucket 1) left
    expect(totals(w)).toEqual({ total: 3, failures: 1, slow: 2 });
    w.expire(1_199); // still bucket 11: bucket 2 is 9 buckets older and stays
    expect(w.total).toBe(3);
    w.expire(1_200); // bucket 12: bucket 2 is 10 buckets older and leaves
    expect(totals(w)).toEqual({ total: 1, failures: 0, slow: 0 });
  });

  it('expires by elapsed time when recording, not only when asked to', () => {
    const w = new TimeWindow(1_000, 10);
    for (let t = 0; t < 1_000; t += 100) w.record(t, true, false);
    w.record(1_500, false, false); // bucket 15: buckets 0..5 left
    expect(totals(w)).toEqual({ total: 5, failures: 4, slow: 0 });
  });

  it('forgets everything after an idle gap of a window or more', () => {
    const w = new TimeWindow(1_000, 10);
    for (let i = 0; i < 9; i++) w.record(i * 100, true, false);
    w.record(3_600_000, true, false);
    expect(totals(w)).toEqual({ total: 1, failures: 1, slow: 0 });
  });

  it('forgets only the part of the window an idle gap covers', () => {
    const w = new TimeWindow(1_000, 10);
    w.record(100, true, false); // bucket 1
    w.record(800, true, false); // bucket 8
    w.expire(1_750); // bucket 17: bucket 1 left, bucket 8 stays
    expect(w.total).toBe(1);
  });

  it('counts an outcome from a clock that stepped backwards in the newest bucket', () => {
    const w = new TimeWindow(1_000, 10);
    w.record(5_000, false, false);
    w.record(4_000, true, false);
    expect(totals(w)).toEqual({ total: 2, failures: 1, slow: 0 });
    w.expire(5_999);
    expect(w.total).toBe(2);
    w.expire(6_000);
    expect(w.total).toBe(0);
  });

  it('clear() empties every bucket', () => {
    const w = new TimeWindow(1_000, 10);
    w.record(0, true, true);
    w.record(500, true, true);
    w.clear();
    expect(totals(w)).toEqual({ total: 0, failures: 0, slow: 0 });
    w.record(600, false, false);
    expect(totals(w)).toEqual({ total: 1, failures: 0, slow: 0 });
  });
});

describe('a breaker over a time window', () => {
  const options = {
    failureThreshold: Infinity,
    failureRateThreshold: 50,
    minimumCalls: 10,
    window: { type: 'time', sizeMs: 60_000 },
  } as const;

  it('does NOT open on 9 failures, one hour idle, then 1 failure', () => {
    const clock = new ManualClock();
    const b = createBreaker('catalogue', options, { clock });
    for (let i = 0; i < 9; i++) failSync(b);
    clock.advance(3_600_000);
    failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot().bufferedCalls).toBe(1);
  });

  it('opens on 9 failures and 1 more failure within the window', () => {
    const clock = new ManualClock();
    const b = createBreaker('catalogue', options, { clock });
    for (let i = 0; i < 9; i++) failSync(b);
    clock.advance(59_999);
    failSync(b);
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('lets an outcome leave once its 1 s bucket is 60 buckets older than the current one', () => {
    const clock = new ManualClock(500); // bucket 0
    const b = createBreaker('catalogue', options, { clock });
    failSync(b);
    clock.set(1_000); // bucket 1
    succeedSync(b, 'ok');
    clock.set(59_999); // bucket 59
    expect(b.snapshot().bufferedCalls).toBe(2);
    clock.set(60_000); // bucket 60: bucket 0 leaves
    expect(b.snapshot().bufferedCalls).toBe(1);
    clock.set(61_000); // bucket 61: bucket 1 leaves
    expect(b.snapshot().bufferedCalls).toBe(0);
  });

  it('trips on the recent failures once older successes have aged out', () => {
    const clock = new ManualClock();
    const b = createBreaker('catalogue', options, { clock });
    for (let i = 0; i < 10; i++) succeedSync(b, i);
    clock.advance(30_000);
    for (let i = 0; i < 9; i++) failSync(b);
    expect(b.state).toBe(CircuitState.CLOSED);
    clock.advance(30_000); // the 10 successes have left; the 9 failures stay
    succeedSync(b, 'one more');
    // 9 failures of 10 calls now in the window: 90% >= 50%.
    expect(b.state).toBe(CircuitState.OPEN);
  });
});
