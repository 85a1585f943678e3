import { Redis } from 'ioredis';
import { BreakerRegistry, CircuitState } from '../../lib/core';
import { encodeBreakerName, RedisStateStore } from '../../lib/integrations/redis';
import { breakerKeys } from '../../lib/integrations/redis/breaker-keys';
import { keySlot } from '../../lib/integrations/redis/key-slot';
import { RedisServer, waitFor } from './support/redis-server';

const HOSTILE = [
  '*',
  ':',
  '{',
  '}',
  '{payment}',
  'a:b',
  'a%3Ab', // what a naive escape of 'a:b' would give
  'a\nb',
  'a b',
  '~D800',
  '\uD800', // a lone surrogate: not valid UTF-8
  '\uDC00',
  'ünï',
  '💳',
  'x'.repeat(10_000),
];

describe('breaker names in Redis keys', () => {
  it('encodes every name to a distinct key part without key or glob syntax', () => {
    const encoded = HOSTILE.map(encodeBreakerName);
    expect(new Set(encoded).size).toBe(HOSTILE.length);
    for (const e of encoded) expect(e).toMatch(/^[A-Za-z0-9_.%~-]+$/);
    expect(encodeBreakerName('payment')).toBe('payment');
    expect(encodeBreakerName('a:b')).toBe('a%3Ab');
    expect(encodeBreakerName('a%3Ab')).toBe('a%253Ab');
  });

  it('puts every key of a breaker under one hash tag: the encoded name', () => {
    for (const name of HOSTILE) {
      const keys = breakerKeys('cb:', name);
      for (const key of [keys.state, keys.window, keys.probes]) {
        const open = key.indexOf('{');
        expect(key.slice(open + 1, key.indexOf('}', open))).toBe(encodeBreakerName(name));
      }
    }
  });
});

describe('key TTLs on a real redis-server', () => {
  let redis: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = new Redis(redis.url);
  });

  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });

  async function scanAll(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  }

  it('leaves no key of idle breakers behind once their TTL has passed, whatever their names', async () => {
    const store = new RedisStateStore({
      connection: redis.url,
      prefix: 'ttl:',
      flushIntervalMs: 20,
      keyTtlMs: 300,
    });
    const registry = new BreakerRegistry({
      defaults: { failureThreshold: 2, halfOpenAfterMs: 50, failureRateThreshold: 90, minimumCalls: 50 },
      store,
    });
    try {
      const ok = registry.get('only-successes');
      await waitFor('shared', () => store.status === 'shared');
      for (const name of HOSTILE) {
        const b = registry.get(name);
        await b.executePromise(() => Promise.resolve(1));
        for (let i = 0; i < 2; i++)
          await expect(b.executePromise(() => Promise.reject(new Error('x')))).rejects.toThrow();
        expect(b.state).toBe(CircuitState.OPEN);
      }
      for (let i = 0; i < 5; i++) await ok.executePromise(() => Promise.resolve(1));
      // Records, window entries: each key of the breakers exists, carries a TTL and decodes to one name.
      const keys = await waitFor('keys written', async () => {
        const found = await scanAll('ttl:*');
        return found.length >= HOSTILE.length + 1 ? found : undefined;
      });
      const tags = new Set(keys.map((k) => k.slice(k.indexOf('{') + 1, k.indexOf('}'))));
      expect(tags).toEqual(new Set([...HOSTILE, 'only-successes'].map(encodeBreakerName)));
      for (const key of keys) expect(await admin.pttl(key)).toBeGreaterThan(0);
      // The name '*' is a literal key part: a pattern built from it matches only its own keys.
      expect(await scanAll(`ttl:{${encodeBreakerName('*')}}:*`)).toEqual([breakerKeys('ttl:', '*').state]);

      // Idle from now on: everything expires (OPEN records after their OPEN period plus the TTL).
      await waitFor('keys expired', async () => (await scanAll('ttl:*')).length === 0, 5_000, 50);
    } finally {
      registry.dispose();
      await store.close();
    }
  });
});

describe('cluster slots of breaker keys', () => {
  it('computes the slot Redis Cluster gives a key (CRC16 of the hash tag, mod 16384)', () => {
    // CRC16/XMODEM('123456789') = 0x31C3 (the Redis Cluster spec's check value).
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('{123456789}.anything')).toBe(keySlot('123456789'));
    // An empty tag does not count: the whole key is hashed.
    expect(keySlot('a{}b')).not.toBe(keySlot(''));
    for (const name of HOSTILE) {
      const keys = breakerKeys('cb:', name);
      expect(new Set([keys.state, keys.window, keys.probes].map(keySlot)).size).toBe(1);
    }
  });
});
