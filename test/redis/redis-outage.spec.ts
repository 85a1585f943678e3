import { BreakerRegistry, CircuitState } from '../../lib/core';
import type { BreakerOptions } from '../../lib/core';
import { RedisStateStore } from '../../lib/integrations/redis';
import { RedisServer, waitFor } from './support/redis-server';

describe('RedisStateStore when Redis goes away', () => {
  let redis: RedisServer;
  const open: { registry: BreakerRegistry; store: RedisStateStore; warnings: string[] }[] = [];

  beforeEach(async () => {
    redis = await RedisServer.start();
  });

  afterEach(async () => {
    for (const { registry, store } of open.splice(0)) {
      registry.dispose();
      await store.close();
    }
    await redis.stop();
  });

  function instance(breakers: Record<string, BreakerOptions>) {
    const warnings: string[] = [];
    const store = new RedisStateStore({
      connection: redis.url,
      flushIntervalMs: 50,
      timeoutMs: 50,
      logger: { warn: (m) => warnings.push(m) },
    });
    const registry = new BreakerRegistry({ breakers, store });
    const i = { registry, store, warnings };
    open.push(i);
    return i;
  }

  it('keeps calls going on local decisions, warns once, and converges within 2 s after a restart', async () => {
    const options = { failureThreshold: 3, halfOpenAfterMs: 60_000 };
    const a = instance({ pay: options, other: {} });
    const b = instance({ pay: options, other: {} });
    await waitFor('shared', () => a.store.status === 'shared' && b.store.status === 'shared');

    await redis.kill();
    // Calls go on while the connection is being lost (how long they take is measured in bench/, not here).
    for (let n = 0; n < 200; n++) {
      await expect(a.registry.get('other').executePromise(() => Promise.resolve(n))).resolves.toBe(n);
    }
    await waitFor('degraded', () => a.store.status === 'degraded' && b.store.status === 'degraded', 10_000);
    expect(a.registry.get('pay').snapshot().store).toBe('degraded');
    // A trips on its own while Redis is gone; B cannot know yet.
    for (let n = 0; n < 3; n++) {
      await expect(
        a.registry.get('pay').executePromise(() => Promise.reject(new Error('down'))),
      ).rejects.toThrow('down');
    }
    expect(a.registry.get('pay').state).toBe(CircuitState.OPEN);
    expect(b.registry.get('pay').state).toBe(CircuitState.CLOSED);
    for (let n = 0; n < 50; n++) await b.registry.get('other').executePromise(() => Promise.resolve(n));
    expect(a.warnings).toHaveLength(1);
    expect(b.warnings).toHaveLength(1);
    expect(a.warnings[0]).toMatch(/Redis state store unreachable .* breakers decide locally/);

    await redis.start();
    // A generous deadline: the 2 s convergence figure is measured by the fleet benchmark.
    await waitFor(
      'converged',
      () =>
        a.store.status === 'shared' &&
        b.store.status === 'shared' &&
        b.registry.get('pay').state === CircuitState.OPEN,
      10_000,
    );
    expect(b.registry.get('pay').snapshot().store).toBe('shared');
    // One warning per outage, not per call.
    expect(a.warnings).toHaveLength(1);
  });

  it('decides a half-open probe locally while Redis is gone', async () => {
    const a = instance({ h: { failureThreshold: 1, halfOpenAfterMs: 100, halfOpenMaxCalls: 1 } });
    await waitFor('shared', () => a.store.status === 'shared');
    await expect(a.registry.get('h').executePromise(() => Promise.reject(new Error('x')))).rejects.toThrow();
    await redis.kill();
    await waitFor('degraded', () => a.store.status === 'degraded', 10_000);
    await waitFor('probe time', () => a.registry.get('h').snapshot().retryAfterMs === 0, 5_000);
    await expect(a.registry.get('h').executePromise(() => Promise.resolve('probe'))).resolves.toBe('probe');
    // One of the two successes the (local) half-open state needs.
    expect(a.registry.get('h').state).toBe(CircuitState.HALF_OPEN);
    expect(a.registry.get('h').snapshot().store).toBe('degraded');
  });
});
