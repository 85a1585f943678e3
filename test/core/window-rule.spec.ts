import { CircuitState, createBreaker, ManualClock, BreakerRegistry } from '../../lib/core';
import { failSync, succeedSync } from './support';

// API.md, "The window": a breaker keeps a window when it has a rate trip or when its options name
// `window` explicitly; otherwise it keeps none and reports -1 / -1 / 0.

describe('the window rule', () => {
  it('keeps a window for an explicit window without a rate trip, and reports its rates', () => {
    const b = createBreaker('payment', { window: { type: 'count', size: 4 }, minimumCalls: 2 });
    failSync(b);
    succeedSync(b, 'ok');
    expect(b.snapshot()).toMatchObject({ failureRate: 50, slowCallRate: 0, bufferedCalls: 2 });
  });

  it('keeps a time window named in the registry defaults', () => {
    const clock = new ManualClock();
    const registry = new BreakerRegistry({
      clock,
      defaults: { window: { type: 'time', sizeMs: 10_000, buckets: 10 }, minimumCalls: 1 },
    });
    const b = registry.get('inventory');
    failSync(b);
    expect(b.snapshot()).toMatchObject({ failureRate: 100, bufferedCalls: 1 });
    clock.advance(10_000);
    expect(b.snapshot()).toMatchObject({ failureRate: -1, bufferedCalls: 0 });
  });

  it('keeps no window without a rate trip or an explicit window (the default costs nothing)', () => {
    const b = createBreaker('payment', { minimumCalls: 1 });
    failSync(b);
    expect(b.snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      failureRate: -1,
      slowCallRate: -1,
      bufferedCalls: 0,
    });
  });
});
