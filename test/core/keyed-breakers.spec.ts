import {
  BreakerConfigError,
  BreakerRegistry,
  CircuitOpenError,
  CircuitState,
  ManualClock,
  type BreakerEvent,
  type BreakerOptions,
} from '../../lib/core';
import { failSync, succeedSync } from './support';

function registryWith(payment: BreakerOptions = {}, clock = new ManualClock()): BreakerRegistry {
  return new BreakerRegistry({
    defaults: { halfOpenAfterMs: 10_000 },
    breakers: { payment: { failureThreshold: 2, ...payment } },
    clock,
  });
}

describe('keyed breakers: registry.get(name, key)', () => {
  it('creates one breaker per key on first use, with the family options, and returns it afterwards', () => {
    const registry = registryWith();
    const a = registry.get('payment', 'merchant-a');
    expect(registry.get('payment', 'merchant-a')).toBe(a);
    const b = registry.get('payment', 'merchant-b');
    expect(b).not.toBe(a);
    expect(a).not.toBe(registry.get('payment'));
    failSync(a);
    failSync(a);
    expect(a.snapshot()).toMatchObject({
      name: 'payment',
      key: 'merchant-a',
      state: CircuitState.OPEN,
      retryAfterMs: 10_000,
    });
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(registry.get('payment').state).toBe(CircuitState.CLOSED);
    expect(registry.get('payment').snapshot().key).toBeUndefined();
  });

  it('lists the keys alive with keys(name), least recently used first; names() lists the family once', () => {
    const registry = registryWith();
    registry.get('payment', 'a');
    registry.get('payment', 'b');
    registry.get('payment', 'a');
    expect(registry.keys('payment')).toEqual(['b', 'a']);
    expect(registry.keys('never-keyed')).toEqual([]);
    expect(registry.names()).toEqual(['payment']);
  });

  it('keys a name that is not configured from the defaults, with its unkeyed breaker beside it', () => {
    const registry = registryWith();
    const k = registry.get('search', 'tenant-1');
    failSync(k);
    failSync(k);
    failSync(k);
    failSync(k);
    expect(k.state).toBe(CircuitState.CLOSED);
    failSync(k);
    expect(k.snapshot()).toMatchObject({ name: 'search', key: 'tenant-1', state: CircuitState.OPEN });
    expect(registry.has('search')).toBe(true);
  });

  it('rejects a key that is not a string, naming the breaker and the value', () => {
    const registry = registryWith();
    expect(() => registry.get('payment', 42 as unknown as string)).toThrow(BreakerConfigError);
    expect(() => registry.get('payment', 42 as unknown as string)).toThrow(
      'breaker "payment": key must be a string (or undefined for the unkeyed breaker), got 42',
    );
  });

  it('tags events and CircuitOpenError of a keyed breaker with its key', () => {
    const registry = registryWith();
    const events: BreakerEvent[] = [];
    const subscription = registry.events$.subscribe((e) => events.push(e));
    const a = registry.get('payment', 'merchant/42');
    succeedSync(a, 1);
    failSync(a);
    failSync(a);
    let rejection: unknown;
    try {
      a.executeSync(() => 'never');
    } catch (error) {
      rejection = error;
    }
    subscription.unsubscribe();
    expect(events.map((e) => [e.type, e.name, e.key])).toEqual([
      ['success', 'payment', 'merchant/42'],
      ['failure', 'payment', 'merchant/42'],
      ['failure', 'payment', 'merchant/42'],
      ['state_change', 'payment', 'merchant/42'],
      ['rejected', 'payment', 'merchant/42'],
    ]);
    expect(rejection).toBeInstanceOf(CircuitOpenError);
    expect(rejection).toMatchObject({ breakerName: 'payment', key: 'merchant/42', state: CircuitState.OPEN });
    expect((rejection as Error).message).toBe(
      'circuit breaker "payment" (key "merchant/42") is open; retry in 10000 ms',
    );
    expect(a.recentEvents().every((e) => e.key === 'merchant/42')).toBe(true);
  });

  it('keeps key undefined on the events and errors of unkeyed breakers', () => {
    const registry = registryWith({ failureThreshold: 1 });
    const events: BreakerEvent[] = [];
    const subscription = registry.events$.subscribe((e) => events.push(e));
    failSync(registry.get('payment'));
    subscription.unsubscribe();
    expect(events.every((e) => !('key' in e))).toBe(true);
    let rejection: unknown;
    try {
      registry.get('payment').executeSync(() => 1);
    } catch (error) {
      rejection = error;
    }
    expect(rejection).toBeInstanceOf(CircuitOpenError);
    expect((rejection as CircuitOpenError).key).toBeUndefined();
    expect((rejection as CircuitOpenError).message).toBe(
      'circuit breaker "payment" is open; retry in 10000 ms',
    );
  });
});

describe('keyed breakers: bounds (keys.max, keys.idleMs)', () => {
  it('at keys.max evicts the least recently used CLOSED key to make room, and counts it', () => {
    const registry = registryWith({ keys: { max: 3 } });
    const a = registry.get('payment', 'a');
    registry.get('payment', 'b');
    registry.get('payment', 'c');
    registry.get('payment', 'a');
    registry.get('payment', 'd');
    expect(registry.keys('payment')).toEqual(['c', 'a', 'd']);
    expect(registry.get('payment', 'a')).toBe(a);
    expect(registry.metrics().payment.keys).toEqual({ alive: 3, open: 0, halfOpen: 0, evicted: 1 });
  });

  it('never evicts an OPEN, HALF_OPEN or FORCED_OPEN key; a new key then goes through the unkeyed breaker', () => {
    const clock = new ManualClock();
    const registry = registryWith({ keys: { max: 3 }, halfOpenAfterMs: 1_000, halfOpenMaxCalls: 1 }, clock);
    const a = registry.get('payment', 'a');
    failSync(a);
    failSync(a);
    const b = registry.get('payment', 'b');
    b.forceOpen();
    const c = registry.get('payment', 'c');
    failSync(c);
    failSync(c);
    clock.advance(1_000);
    const probe = c.executePromise(() => new Promise<void>(() => {}));
    void probe;
    expect(c.state).toBe(CircuitState.HALF_OPEN);

    const unkeyed = registry.get('payment');
    expect(registry.get('payment', 'd')).toBe(unkeyed);
    expect(registry.keys('payment').sort()).toEqual(['a', 'b', 'c']);
    expect(registry.metrics().payment.keys).toEqual({ alive: 3, open: 2, halfOpen: 1, evicted: 0 });

    // Once a key can go again, the next new key takes its place.
    b.reset();
    const d = registry.get('payment', 'd');
    expect(d).not.toBe(unkeyed);
    expect(d.snapshot().key).toBe('d');
    expect(registry.keys('payment')).not.toContain('b');
  });

  it('may evict DISABLED and METRICS_ONLY keys like CLOSED ones', () => {
    const registry = registryWith({ keys: { max: 2 } });
    registry.get('payment', 'a').disable();
    registry.get('payment', 'b').metricsOnly();
    registry.get('payment', 'c');
    expect(registry.keys('payment')).toEqual(['b', 'c']);
    registry.get('payment', 'd');
    expect(registry.keys('payment')).toEqual(['c', 'd']);
    expect(registry.metrics().payment.keys?.evicted).toBe(2);
  });

  it('evicts CLOSED keys unused for keys.idleMs on a later use, with no timer', () => {
    const clock = new ManualClock();
    const registry = registryWith({ keys: { idleMs: 60_000 } }, clock);
    registry.get('payment', 'idle-1');
    registry.get('payment', 'idle-2');
    const open = registry.get('payment', 'open');
    failSync(open);
    failSync(open);
    clock.advance(30_000);
    registry.get('payment', 'busy');
    clock.advance(30_000);
    registry.get('payment', 'busy');
    // idle-1 and idle-2 have been unused for 60 s; the OPEN key stays whatever its age.
    expect(registry.keys('payment').sort()).toEqual(['busy', 'open']);
    expect(registry.metrics().payment.keys).toEqual({ alive: 2, open: 1, halfOpen: 0, evicted: 2 });
    // A key used again after eviction starts fresh.
    expect(registry.get('payment', 'idle-1').snapshot().totalCalls).toBe(0);
  });

  it('keeps a key used within keys.idleMs alive', () => {
    const clock = new ManualClock();
    const registry = registryWith({ keys: { idleMs: 1_000 } }, clock);
    const a = registry.get('payment', 'a');
    clock.advance(999);
    expect(registry.get('payment', 'a')).toBe(a);
    clock.advance(999);
    expect(registry.get('payment', 'a')).toBe(a);
    expect(registry.keys('payment')).toEqual(['a']);
  });

  it('stays at keys.max under 2,000 distinct keys', () => {
    const registry = registryWith({ keys: { max: 100 } });
    for (let i = 0; i < 2_000; i++) succeedSync(registry.get('payment', `tenant-${i}`), 1);
    expect(registry.keys('payment')).toHaveLength(100);
    const family = registry.metrics().payment;
    expect(family.keys).toEqual({ alive: 100, open: 0, halfOpen: 0, evicted: 1_900 });
    expect(family.totalCalls).toBe(2_000);
    expect(family.successfulCalls).toBe(2_000);
  });
});

describe('keyed breakers: the family view', () => {
  it('adds up the unkeyed and every keyed call, evicted and removed keys included: counters never go backwards', () => {
    const clock = new ManualClock();
    const registry = registryWith({ keys: { max: 2 }, failureThreshold: 5 }, clock);
    succeedSync(registry.get('payment'), 1);
    failSync(registry.get('payment', 'a'));
    succeedSync(registry.get('payment', 'b'), 1);
    succeedSync(registry.get('payment', 'b'), 1);
    let last = registry.metrics().payment;
    expect(last).toMatchObject({
      name: 'payment',
      state: CircuitState.CLOSED,
      totalCalls: 4,
      successfulCalls: 3,
      failedCalls: 1,
      successRate: 75,
      keys: { alive: 2, open: 0, halfOpen: 0, evicted: 0 },
    });
    expect(last.key).toBeUndefined();

    succeedSync(registry.get('payment', 'c'), 1); // evicts a
    expect(registry.remove('payment', 'b')).toBe(true);
    last = registry.metrics().payment;
    expect(last).toMatchObject({ totalCalls: 5, successfulCalls: 4, failedCalls: 1 });
    expect(last.keys).toEqual({ alive: 1, open: 0, halfOpen: 0, evicted: 1 });
  });

  it('shows the unkeyed breaker state, not a key state', () => {
    const registry = registryWith();
    const a = registry.get('payment', 'a');
    failSync(a);
    failSync(a);
    expect(registry.metrics().payment).toMatchObject({
      state: CircuitState.CLOSED,
      openedCount: 1,
      keys: { alive: 1, open: 1, halfOpen: 0, evicted: 0 },
    });
  });

  it('leaves the snapshot of a name never used with a key as it was (no keys field)', () => {
    const registry = registryWith();
    succeedSync(registry.get('payment'), 1);
    expect('keys' in registry.metrics().payment).toBe(false);
  });
});

describe('keyed breakers: remove() and register()', () => {
  it('remove(name, key) disposes one key; a later get starts it fresh', () => {
    const registry = registryWith();
    const a = registry.get('payment', 'a');
    failSync(a);
    expect(registry.remove('payment', 'a')).toBe(true);
    expect(registry.remove('payment', 'a')).toBe(false);
    expect(registry.remove('payment', 'never')).toBe(false);
    const again = registry.get('payment', 'a');
    expect(again).not.toBe(a);
    expect(again.snapshot().consecutiveFailures).toBe(0);
  });

  it('remove(name) disposes the unkeyed breaker and all its keys', () => {
    const registry = registryWith();
    const unkeyed = registry.get('payment');
    registry.get('payment', 'a');
    expect(registry.remove('payment')).toBe(true);
    expect(registry.has('payment')).toBe(false);
    expect(registry.keys('payment')).toEqual([]);
    expect(registry.remove('payment')).toBe(false);
    // Configured options still apply when the name is used again.
    const fresh = registry.get('payment', 'a');
    failSync(fresh);
    failSync(fresh);
    expect(fresh.state).toBe(CircuitState.OPEN);
    expect(registry.get('payment')).not.toBe(unkeyed);
  });

  it('re-points the handle decorated methods hold when a removed name is used again', () => {
    const registry = registryWith();
    const ref = registry.ref('payment');
    registry.remove('payment');
    const fresh = registry.get('payment');
    expect(ref.breaker).toBe(fresh);
    expect(registry.ref('payment')).toBe(ref);
  });

  it('register() replaces the family options: existing keys start afresh with the new ones', () => {
    const registry = registryWith();
    registry.get('payment', 'a');
    registry.register('payment', { failureThreshold: 1 });
    expect(registry.keys('payment')).toEqual([]);
    const a = registry.get('payment', 'a');
    failSync(a);
    expect(a.state).toBe(CircuitState.OPEN);
  });

  it('register() keeps the counts of the keys it disposed in the family totals', () => {
    const registry = registryWith();
    succeedSync(registry.get('payment', 'a'), 1);
    succeedSync(registry.get('payment', 'b'), 1);
    registry.register('payment', { keys: { max: 1 } });
    expect(registry.metrics().payment).toMatchObject({ totalCalls: 2, successfulCalls: 2 });
    registry.get('payment', 'c');
    registry.get('payment', 'd');
    expect(registry.keys('payment')).toEqual(['d']);
  });
});

describe('keyed breakers: the keys option', () => {
  it('takes keys from defaults and from breakers[name], one level merged like other options', () => {
    const registry = new BreakerRegistry({
      defaults: { keys: { max: 5 } },
      breakers: { small: { keys: { max: 1 } } },
      clock: new ManualClock(),
    });
    registry.get('small', 'a');
    registry.get('small', 'b');
    expect(registry.keys('small')).toEqual(['b']);
    for (let i = 0; i < 10; i++) registry.get('other', `k${i}`);
    expect(registry.keys('other')).toHaveLength(5);
  });

  it.each([
    [{ max: 0 }, 'breaker "payment": keys.max must be an integer in [1, 10000000], got 0'],
    [{ max: 1.5 }, 'breaker "payment": keys.max must be an integer in [1, 10000000], got 1.5'],
    [{ idleMs: -1 }, 'breaker "payment": keys.idleMs must be in (0, 2147483647000], got -1'],
    [{ idleMs: 'soon' }, 'breaker "payment": keys.idleMs must be a number, got string "soon"'],
    [{ metrics: 'tenant' }, `breaker "payment": keys.metrics must be 'family' or 'key', got "tenant"`],
    [{ maxx: 3 }, 'breaker "payment": unknown option "keys.maxx" (did you mean "keys.max"?)'],
    [5, 'breaker "payment": keys must be an object, got 5'],
  ])('rejects keys %j with a message naming breaker, option and value', (keys, message) => {
    expect(
      () =>
        new BreakerRegistry({
          breakers: { payment: { keys: keys as BreakerOptions['keys'] } },
          clock: new ManualClock(),
        }),
    ).toThrow(new BreakerConfigError(message));
  });

  it('accepts idleMs: Infinity (no idle eviction; keys.max still bounds the family)', () => {
    const clock = new ManualClock();
    const registry = registryWith({ keys: { max: 2, idleMs: Infinity } }, clock);
    registry.get('payment', 'a');
    clock.advance(10 * 365 * 24 * 3_600_000);
    registry.get('payment', 'b');
    expect(registry.keys('payment')).toEqual(['a', 'b']);
    registry.get('payment', 'c');
    expect(registry.keys('payment')).toEqual(['b', 'c']);
  });
});
