import { BreakerRegistry, CircuitOpenError, CircuitState, ManualClock } from '../../../lib/core';
import { breakerFetch, parseRetryAfter, type BreakerFetchOptions } from '../../../lib/integrations/fetch';
import { startDownstream, status, type Downstream } from '../downstream';

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date against the given time, a past date as 0', () => {
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:59:00 GMT', now)).toBe(0);
  });

  it('returns undefined for a missing or unreadable header', () => {
    for (const bad of [null, undefined, '', '-5', '1.5', 'soon', 'Xyz, 99 Foo 2030']) {
      expect(parseRetryAfter(bad, now)).toBeUndefined();
    }
  });
});

describe('breakerFetch and Retry-After', () => {
  let api: Downstream;
  let clock: ManualClock;

  beforeEach(async () => {
    api = await startDownstream();
    clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  });
  afterEach(() => api.close());

  function setup(options: BreakerFetchOptions = {}) {
    const registry = new BreakerRegistry({
      clock,
      defaults: { failureThreshold: 1, halfOpenAfterMs: 1_000 },
    });
    return { breaker: () => registry.get('fetch', api.origin), fetch: breakerFetch(registry, options) };
  }

  it('keeps a 503 with Retry-After: 5 OPEN for 5 s instead of halfOpenAfterMs (1 s)', async () => {
    const { breaker, fetch } = setup();
    api.respond(status(503, 'busy', { 'retry-after': '5' }));
    await fetch(`${api.origin}/x`);
    expect(breaker().snapshot()).toMatchObject({ state: CircuitState.OPEN, retryAfterMs: 5_000 });
    expect(
      breaker()
        .recentEvents()
        .find((e) => e.type === 'state_change'),
    ).toMatchObject({
      retryAfterMs: 5_000,
      reason: expect.stringContaining('the downstream asked to retry after 5000 ms') as string,
    });

    clock.advance(1_000);
    await expect(fetch(`${api.origin}/x`)).rejects.toBeInstanceOf(CircuitOpenError);
    clock.advance(3_999);
    await expect(fetch(`${api.origin}/x`)).rejects.toMatchObject({ retryAfterMs: 1 });
    expect(api.requests).toBe(1);
    clock.advance(1);
    api.respond(status(200));
    expect((await fetch(`${api.origin}/x`)).status).toBe(200);
    expect(api.requests).toBe(2);
  });

  it('reads an HTTP-date Retry-After against the registry clock', async () => {
    const { breaker, fetch } = setup();
    api.respond(status(503, 'busy', { 'retry-after': 'Tue, 01 Jan 2030 00:00:20 GMT' }));
    await fetch(`${api.origin}/x`);
    expect(breaker().snapshot().retryAfterMs).toBe(20_000);
  });

  it('never shortens OPEN below halfOpenAfterMs', async () => {
    const { breaker, fetch } = setup();
    api.respond(status(503, 'busy', { 'retry-after': '0' }));
    await fetch(`${api.origin}/x`);
    expect(breaker().snapshot().retryAfterMs).toBe(1_000);
  });

  it('caps the header at retryAfter.maxMs (default 5 minutes)', async () => {
    const { breaker, fetch } = setup();
    api.respond(status(503, 'busy', { 'retry-after': '86400' }));
    await fetch(`${api.origin}/x`);
    expect(breaker().snapshot().retryAfterMs).toBe(300_000);

    const capped = setup({ retryAfter: { maxMs: 10_000 } });
    await capped.fetch(`${api.origin}/x`);
    expect(capped.breaker().snapshot().retryAfterMs).toBe(10_000);
  });

  it('ignores the header with retryAfter: false', async () => {
    const { breaker, fetch } = setup({ retryAfter: false });
    api.respond(status(503, 'busy', { 'retry-after': '30' }));
    await fetch(`${api.origin}/x`);
    expect(breaker().snapshot().retryAfterMs).toBe(1_000);
  });

  it('ignores Retry-After on statuses other than 503 and 429', async () => {
    const { breaker, fetch } = setup();
    api.respond(status(500, 'boom', { 'retry-after': '30' }));
    await fetch(`${api.origin}/x`);
    expect(breaker().snapshot().retryAfterMs).toBe(1_000);
  });

  it('honours a 429 only when isFailureStatus counts it', async () => {
    const plain = setup();
    api.respond(status(429, 'slow down', { 'retry-after': '30' }));
    await plain.fetch(`${api.origin}/x`);
    expect(plain.breaker().state).toBe(CircuitState.CLOSED);

    const counting = setup({ isFailureStatus: (s) => s >= 500 || s === 429 });
    await counting.fetch(`${api.origin}/x`);
    expect(counting.breaker().snapshot()).toMatchObject({ state: CircuitState.OPEN, retryAfterMs: 30_000 });
  });

  it('applies to a failed half-open probe too', async () => {
    const { breaker, fetch } = setup();
    api.respond(status(500));
    await fetch(`${api.origin}/x`);
    clock.advance(1_000);
    api.respond(status(503, 'busy', { 'retry-after': '7' }));
    await fetch(`${api.origin}/x`);
    expect(breaker().snapshot()).toMatchObject({
      state: CircuitState.OPEN,
      openedCount: 2,
      retryAfterMs: 7_000,
    });
  });

  it('changes nothing when the failure does not open the circuit', async () => {
    const registry = new BreakerRegistry({
      clock,
      defaults: { failureThreshold: 2, halfOpenAfterMs: 1_000 },
    });
    const fetch = breakerFetch(registry);
    api.sequence(status(503, 'busy', { 'retry-after': '60' }), status(500));
    await fetch(`${api.origin}/x`);
    await fetch(`${api.origin}/x`);
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      state: CircuitState.OPEN,
      retryAfterMs: 1_000,
    });
  });
});
