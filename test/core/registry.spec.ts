import {
  BreakerConfigError,
  BreakerRegistry,
  CircuitOpenError,
  CircuitState,
  ManualClock,
  type BreakerEvent,
} from '../../lib/core';
import { failSync, succeedSync, until } from './support';

describe('BreakerRegistry (framework-free)', () => {
  it('creates the configured breakers up front: they show in names() and metrics() before any call', () => {
    const registry = new BreakerRegistry({
      breakers: { payment: { failureThreshold: 3 }, inventory: {} },
      clock: new ManualClock(),
    });
    expect(registry.names()).toEqual(['payment', 'inventory']);
    expect(registry.has('payment')).toBe(true);
    const metrics = registry.metrics();
    expect(Object.keys(metrics)).toEqual(['payment', 'inventory']);
    expect(metrics.payment).toMatchObject({ name: 'payment', state: CircuitState.CLOSED, totalCalls: 0 });
  });

  it('merges the defaults under each breaker own options', () => {
    const registry = new BreakerRegistry({
      defaults: { failureThreshold: 1, halfOpenAfterMs: 5_000 },
      breakers: { payment: { failureThreshold: 2 } },
      clock: new ManualClock(),
    });
    const payment = registry.get('payment');
    failSync(payment);
    expect(payment.state).toBe(CircuitState.CLOSED);
    failSync(payment);
    expect(payment.snapshot()).toMatchObject({ state: CircuitState.OPEN, retryAfterMs: 5_000 });
    const other = registry.get('search');
    failSync(other);
    expect(other.snapshot()).toMatchObject({ state: CircuitState.OPEN, retryAfterMs: 5_000 });
  });

  it('creates an unknown name from the defaults on first get(), and returns the same breaker afterwards', () => {
    const registry = new BreakerRegistry({ clock: new ManualClock() });
    expect(registry.has('search')).toBe(false);
    const search = registry.get('search');
    expect(registry.get('search')).toBe(search);
    expect(registry.names()).toEqual(['search']);
  });

  it('register() adds or replaces a breaker at run time; a ref follows the replacement', () => {
    const registry = new BreakerRegistry({ defaults: { halfOpenAfterMs: 1_000 }, clock: new ManualClock() });
    const ref = registry.ref('payment');
    const first = ref.breaker;
    const second = registry.register('payment', { failureThreshold: 1 });
    expect(second).not.toBe(first);
    expect(ref.breaker).toBe(second);
    expect(registry.get('payment')).toBe(second);
    failSync(second);
    expect(second.snapshot()).toMatchObject({ state: CircuitState.OPEN, retryAfterMs: 1_000 });
  });

  it('validates configured breakers, register() and defaults with messages naming the breaker', () => {
    expect(() => new BreakerRegistry({ breakers: { payment: { failureRateThreshold: 150 } } })).toThrow(
      new BreakerConfigError('breaker "payment": failureRateThreshold must be in (0, 100], got 150'),
    );
    const registry = new BreakerRegistry();
    expect(() => registry.register('search', { halfOpenMaxCalls: 0 })).toThrow(
      /breaker "search": halfOpenMaxCalls/,
    );
    expect(() => new BreakerRegistry({ defaults: { minimumCalls: 0 } })).toThrow(BreakerConfigError);
  });

  it('streams every breaker events on events$ and only transitions on stateChanges$', () => {
    const registry = new BreakerRegistry({ defaults: { failureThreshold: 1 }, clock: new ManualClock() });
    const all: BreakerEvent[] = [];
    const changes: BreakerEvent[] = [];
    const a = registry.events$.subscribe((e) => all.push(e));
    const c = registry.stateChanges$.subscribe((e) => changes.push(e));
    expect(registry.listenerCount).toBe(3);
    succeedSync(registry.get('payment'), 1);
    failSync(registry.get('inventory'));
    expect(() => succeedSync(registry.get('inventory'), 2)).toThrow(CircuitOpenError);
    expect(all.map((e) => `${e.name}:${e.type}`).sort()).toEqual([
      'inventory:failure',
      'inventory:rejected',
      'inventory:state_change',
      'payment:success',
    ]);
    expect(changes).toEqual([expect.objectContaining({ name: 'inventory', to: CircuitState.OPEN })]);
    a.unsubscribe();
    c.unsubscribe();
    expect(registry.listenerCount).toBe(0);
  });

  it('dispose() stops the retry waits of every breaker', async () => {
    const clock = new ManualClock();
    const registry = new BreakerRegistry({
      defaults: { retry: { maxAttempts: 3, backoff: { type: 'constant', baseMs: 60_000, jitter: 'none' } } },
      clock,
    });
    const call = registry.get('payment').executePromise(() => Promise.reject(new Error('down')));
    await until(() => clock.pendingSleeps === 1);
    registry.dispose();
    await expect(call).rejects.toThrow(/disposed/);
    expect(clock.pendingSleeps).toBe(0);
  });
});
