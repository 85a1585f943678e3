import { CircuitOpenError, createBreaker, ManualClock } from '../../lib/core';
import { mulberry32, TestError } from './support';

type Outcome = 'ok' | 'failed' | 'rejected';

/**
 * The seed scenario: failureThreshold 3, halfOpenAfterMs 10_000, successThreshold 2, against a downstream
 * that fails 70% of the time (it draws from a seeded mulberry32 each time it actually runs: a draw < 0.7
 * fails), 20 calls one second apart starting at t = 0.
 */
function runScenario(seed: number) {
  const clock = new ManualClock();
  const b = createBreaker(
    'seed',
    { failureThreshold: 3, halfOpenAfterMs: 10_000, successThreshold: 2 },
    { clock },
  );
  const random = mulberry32(seed);
  const downstream = jest.fn(() => {
    if (random() < 0.7) throw new TestError('downstream failed');
    return 'ok';
  });
  const transitions: string[] = [];
  b.stateChanges$.subscribe((e) => transitions.push(`${e.from}→${e.to}@${e.at}`));
  const calls: [number, Outcome, string][] = [];
  for (let i = 0; i < 20; i++) {
    let outcome: Outcome;
    try {
      b.executeSync(downstream);
      outcome = 'ok';
    } catch (error) {
      outcome = error instanceof CircuitOpenError ? 'rejected' : 'failed';
    }
    calls.push([clock.now(), outcome, b.state]);
    clock.advance(1_000);
  }
  return { b, calls, transitions, runs: downstream.mock.calls.length };
}

describe('the seed scenario (20 calls, 1 s apart, 70% failing downstream)', () => {
  it('seed 12345: opens on the third consecutive failure, probes after 10 s, closes after two good probes', () => {
    // Draws, in the order the downstream runs: S F F S F F F | S S S F  (S = success, F = failure)
    // t=0 S; t=1s F (1 in a row); t=2s F (2); t=3s S resets the count; t=4s F (1); t=5s F (2);
    // t=6s F (3 >= failureThreshold) → OPEN, openedAt 6s. t=7s..15s: now - openedAt < 10s → rejected,
    // the downstream does not run (9 calls). t=16s: 10s elapsed → HALF_OPEN, the call is a probe: S (1 of 2).
    // t=17s: probe S (2 of 2) → CLOSED. t=18s: S. t=19s: F (1 in a row, stays CLOSED).
    const { b, calls, transitions, runs } = runScenario(12345);
    expect(calls).toEqual([
      [0, 'ok', 'closed'],
      [1_000, 'failed', 'closed'],
      [2_000, 'failed', 'closed'],
      [3_000, 'ok', 'closed'],
      [4_000, 'failed', 'closed'],
      [5_000, 'failed', 'closed'],
      [6_000, 'failed', 'open'],
      [7_000, 'rejected', 'open'],
      [8_000, 'rejected', 'open'],
      [9_000, 'rejected', 'open'],
      [10_000, 'rejected', 'open'],
      [11_000, 'rejected', 'open'],
      [12_000, 'rejected', 'open'],
      [13_000, 'rejected', 'open'],
      [14_000, 'rejected', 'open'],
      [15_000, 'rejected', 'open'],
      [16_000, 'ok', 'half_open'],
      [17_000, 'ok', 'closed'],
      [18_000, 'ok', 'closed'],
      [19_000, 'failed', 'closed'],
    ]);
    expect(transitions).toEqual(['closed→open@6000', 'open→half_open@16000', 'half_open→closed@17000']);
    expect(runs).toBe(11);
    expect(b.snapshot()).toMatchObject({
      totalCalls: 20,
      successfulCalls: 5,
      failedCalls: 6,
      rejectedCalls: 9,
      openedCount: 1,
      consecutiveFailures: 1,
    });
  });

  it('seed 42: a failed probe re-opens for another 10 s', () => {
    // Draws: F F S F F F | F
    // t=0 F (1); t=1s F (2); t=2s S resets; t=3s F (1); t=4s F (2); t=5s F (3) → OPEN at 5s.
    // t=6s..14s rejected (9 calls). t=15s: 10s elapsed → HALF_OPEN, probe F → OPEN again at 15s
    // (openedCount 2). t=16s..19s: 1..4 s into the new OPEN period → rejected.
    const { b, calls, transitions, runs } = runScenario(42);
    expect(calls.map(([, outcome]) => outcome)).toEqual([
      'failed',
      'failed',
      'ok',
      'failed',
      'failed',
      'failed',
      ...Array<Outcome>(9).fill('rejected'),
      'failed',
      ...Array<Outcome>(4).fill('rejected'),
    ]);
    expect(calls.map(([, , state]) => state)).toEqual([
      ...Array<string>(5).fill('closed'),
      ...Array<string>(15).fill('open'),
    ]);
    expect(transitions).toEqual(['closed→open@5000', 'open→half_open@15000', 'half_open→open@15000']);
    expect(runs).toBe(7);
    expect(b.snapshot()).toMatchObject({
      totalCalls: 20,
      successfulCalls: 1,
      failedCalls: 6,
      rejectedCalls: 13,
      openedCount: 2,
      // The loop ends at t = 20s (one advance after the last call): 25s - 20s.
      retryAfterMs: 5_000,
    });
  });
});
