import { createBreaker, ManualClock, type BreakerEvent } from '../../lib/core';

describe('observeNotableEvents', () => {
  function setup() {
    const clock = new ManualClock();
    const b = createBreaker(
      'payment',
      { failureThreshold: 2, halfOpenAfterMs: 1_000, recentEventsSize: 0, fallback: { value: 'cached' } },
      { clock },
    );
    const seen: BreakerEvent[] = [];
    const stop = b.observeNotableEvents((e) => seen.push(e));
    return { b, clock, seen, stop };
  }

  it('hands over failures, transitions, rejections and fallbacks in order, never successes', async () => {
    const { b, seen } = setup();
    await b.executePromise(() => Promise.resolve('ok'));
    await b.executePromise(() => Promise.reject(new Error('down')));
    await b.executePromise(() => Promise.reject(new Error('down')));
    await b.executePromise(() => Promise.resolve('never runs'));
    expect(seen.map((e) => (e.type === 'state_change' ? `${e.from}->${e.to}` : e.type))).toEqual([
      'failure',
      'fallback',
      'failure',
      'closed->open',
      'fallback',
      'rejected',
      'fallback',
    ]);
  });

  it('delivers even with recentEventsSize 0 and no other listener, and stops when detached', async () => {
    const { b, seen, stop } = setup();
    await b.executePromise(() => Promise.reject(new Error('down')));
    expect(seen).toHaveLength(2);
    stop();
    await b.executePromise(() => Promise.reject(new Error('down')));
    expect(seen).toHaveLength(2);
    expect(b.snapshot().failedCalls).toBe(2);
  });

  it('keeps successes on their untimed path (no clock read, no event built)', async () => {
    const { b, clock } = setup();
    const reads = jest.spyOn(clock, 'now');
    await b.executePromise(() => Promise.resolve('ok'));
    expect(reads).not.toHaveBeenCalled();
  });
});
