// Keyed breakers in a fleet: each key of a family is shared as its own circuit through a real redis-server.
import { Redis } from 'ioredis';
import { BreakerRegistry, CircuitState, type BreakerOptions } from '../../lib/core';
import { RedisStateStore } from '../../lib/integrations/redis';
import { breakerKeys } from '../../lib/integrations/redis/breaker-keys';
import { RedisServer, waitFor } from './support/redis-server';

describe('keyed breakers sharing state through Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  const open: { registry: BreakerRegistry; store: RedisStateStore }[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = new Redis(redis.url);
  });

  afterEach(async () => {
    for (const { registry, store } of open.splice(0)) {
      registry.dispose();
      await store.close();
    }
    await admin.flushall();
  });

  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });

  function instance(pay: BreakerOptions, prefix = 'cb:') {
    const store = new RedisStateStore({ connection: redis.url, flushIntervalMs: 20, prefix });
    const registry = new BreakerRegistry({ breakers: { pay }, store });
    open.push({ registry, store });
    return { registry, store };
  }

  const fail = () => Promise.reject(new Error('merchant gateway down'));
  const ok = () => Promise.resolve('ok');

  async function shared(...instances: { store: RedisStateStore; registry: BreakerRegistry }[]) {
    for (const i of instances) i.registry.get('pay');
    await waitFor('stores to reach Redis', () => instances.every((i) => i.store.status === 'shared'));
  }

  it('opens one key on every instance when one instance trips it; other keys and the unkeyed breaker stay closed', async () => {
    const options = { failureThreshold: 2, halfOpenAfterMs: 60_000 };
    const a = instance(options);
    const b = instance(options);
    await shared(a, b);
    const onB = b.registry.get('pay', 'merchant/1');
    const otherOnB = b.registry.get('pay', 'merchant/2');
    await waitFor('keys attached', () => onB.snapshot().store === 'shared');
    for (let i = 0; i < 2; i++)
      await expect(a.registry.get('pay', 'merchant/1').executePromise(fail)).rejects.toThrow();
    expect(a.registry.get('pay', 'merchant/1').state).toBe(CircuitState.OPEN);
    await waitFor('B to adopt the open key', () => onB.state === CircuitState.OPEN);
    expect(otherOnB.state).toBe(CircuitState.CLOSED);
    expect(b.registry.get('pay').state).toBe(CircuitState.CLOSED);
    expect(await admin.exists(breakerKeys('cb:', 'pay', 'merchant/1').state)).toBe(1);
    expect(await admin.hget(breakerKeys('cb:', 'pay').state, 'st')).not.toBe('open');
  });

  it('hands a forced-open key to an instance that creates that key later', async () => {
    const a = instance({});
    const b = instance({});
    await shared(a, b);
    a.registry.get('pay', 'tenant-9').forceOpen();
    await waitFor('forced record written', async () =>
      (await admin.hget(breakerKeys('cb:', 'pay', 'tenant-9').state, 'st')) === 'forced_open'
        ? true
        : undefined,
    );
    const late = b.registry.get('pay', 'tenant-9');
    await waitFor('B to adopt the forced key', () => late.state === CircuitState.FORCED_OPEN);
    await expect(late.executePromise(ok)).rejects.toMatchObject({ key: 'tenant-9', state: 'forced_open' });
  });

  it('lets a CLOSED key record expire after keys.idleMs, and keeps a key that is not CLOSED alive', async () => {
    const a = instance({ keys: { idleMs: 300 } }, 'idle:');
    await shared(a);
    const closed = a.registry.get('pay', 'quiet');
    const forced = a.registry.get('pay', 'blocked');
    // A key that was opened and reset has a CLOSED record (a key never out of CLOSED writes none).
    closed.forceOpen();
    closed.reset();
    forced.forceOpen();
    const closedKey = breakerKeys('idle:', 'pay', 'quiet').state;
    const forcedKey = breakerKeys('idle:', 'pay', 'blocked').state;
    await waitFor('both records written', async () =>
      (await admin.hget(closedKey, 'st')) === 'closed' && (await admin.exists(forcedKey)) === 1
        ? true
        : undefined,
    );
    expect(await admin.pttl(closedKey)).toBeLessThanOrEqual(300);
    // Written at the same time with the same TTL: once the CLOSED record is gone, only the keep-alive
    // explains the forced one still being there.
    await waitFor('the CLOSED key record to expire', async () =>
      (await admin.exists(closedKey)) === 0 ? true : undefined,
    );
    expect(await admin.hget(forcedKey, 'st')).toBe('forced_open');
    // And it goes on being refreshed: its TTL climbs back up.
    const before = await admin.pttl(forcedKey);
    await waitFor('the forced record to be refreshed', async () =>
      (await admin.pttl(forcedKey)) > before ? true : undefined,
    );
  });
});
