import {
  CircuitState,
  createBreaker,
  ManualClock,
  ResultFailureError,
  type BreakerOptions,
} from '../../lib/core';
import { failSync } from './support';

function breaker(name: string, options: BreakerOptions, clock: ManualClock) {
  return createBreaker(name, { failureThreshold: 1, halfOpenAfterMs: 5_000, ...options }, { clock });
}

/** Opens `b` (one failure trips it) and returns how long that opening lasts. */
function openFor(b: ReturnType<typeof breaker>): number {
  failSync(b);
  expect(b.state).toBe(CircuitState.OPEN);
  return b.snapshot().retryAfterMs;
}

describe('open duration (halfOpenBackoff)', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('grows each consecutive opening by the backoff function', () => {
    const clock = new ManualClock();
    const b = breaker('growing', { halfOpenBackoff: (n) => n * 1_000 }, clock);
    expect(openFor(b)).toBe(1_000);
    clock.advance(1_000);
    expect(openFor(b)).toBe(2_000); // the half-open probe failed: second consecutive opening
    expect(warn).not.toHaveBeenCalled();
  });

  it('falls back to halfOpenAfterMs when the function returns no duration, warning once per breaker', () => {
    const clock = new ManualClock();
    const bad = (): number => Number.NaN;
    const first = breaker('first', { halfOpenBackoff: bad }, clock);
    expect(openFor(first)).toBe(5_000);
    clock.advance(5_000);
    expect(openFor(first)).toBe(5_000);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toBe(
      'breaker "first": halfOpenBackoff(1) returned NaN, not a duration in ms; using halfOpenAfterMs (5000)',
    );

    // Another breaker with the same mistake gets its own warning.
    const second = breaker('second', { halfOpenBackoff: bad }, clock);
    expect(openFor(second)).toBe(5_000);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[1][0])).toContain('breaker "second"');
  });

  it("holds the circuit open for a failure's Retry-After, only for the opening that failure causes", () => {
    const clock = new ManualClock();
    const b = breaker('hinted', { failureThreshold: 2 }, clock);
    const hinted = new ResultFailureError('hinted', { status: 503 }, 30_000);
    // A hint on a failure that does not open the circuit is not remembered for a later opening.
    expect(() =>
      b.executeSync(() => {
        throw hinted;
      }),
    ).toThrow(hinted);
    expect(b.state).toBe(CircuitState.CLOSED);
    failSync(b);
    expect(b.snapshot().retryAfterMs).toBe(5_000);
    clock.advance(5_000);
    // The failing probe carries the hint: this opening lasts 30 s, and its reason says why.
    expect(() =>
      b.executeSync(() => {
        throw hinted;
      }),
    ).toThrow(hinted);
    expect(b.snapshot().retryAfterMs).toBe(30_000);
    expect(b.recentEvents().at(-1)).toMatchObject({
      type: 'state_change',
      reason: 'half-open probe failed (the downstream asked to retry after 30000 ms)',
    });
    clock.advance(30_000);
    failSync(b);
    expect(b.snapshot().retryAfterMs).toBe(5_000);
  });
});
