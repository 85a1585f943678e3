import { Redis } from 'ioredis';
import { BreakerRegistry, CircuitState } from '../../lib/core';
import type { BreakerOptions } from '../../lib/core';
import { RedisStateStore } from '../../lib/integrations/redis';
import { keySlot } from '../../lib/integrations/redis/key-slot';
import { namesOnDifferentSlots, RedisCluster } from './support/redis-cluster';
import { waitFor } from './support/redis-server';

jest.setTimeout(60_000);

interface Instance {
  registry: BreakerRegistry;
  store: RedisStateStore;
  warnings: string[];
}

const fail = () => Promise.reject(new Error('downstream down'));
const ok = () => Promise.resolve('ok');

function fleet() {
  const open: Instance[] = [];
  return {
    open,
    add(store: (warn: (m: string) => void) => RedisStateStore, breakers: Record<string, BreakerOptions>) {
      const warnings: string[] = [];
      const s = store((m) => warnings.push(m));
      const instance = { registry: new BreakerRegistry({ breakers, store: s }), store: s, warnings };
      open.push(instance);
      return instance;
    },
    async close() {
      for (const { registry, store } of open.splice(0)) {
        registry.dispose();
        await store.close();
      }
    },
  };
}

describe('RedisStateStore on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  const instances = fleet();

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  });
  afterEach(() => instances.close());
  afterAll(() => cluster.stop());

  const names = namesOnDifferentSlots('cb:', 3);
  const rate: BreakerOptions = {
    failureThreshold: 1000,
    failureRateThreshold: 50,
    minimumCalls: 10,
    window: { type: 'count', size: 100 },
  };

  it('shares rate windows of breakers on three masters with app-owned Cluster clients, and warns of nothing', async () => {
    // Each name's keys live on another master: one flush tick sends one pipeline per node.
    expect(new Set(names.map((n) => Math.floor(keySlot(`cb:{${n}}:s`) / 5461))).size).toBe(3);
    const clients = [cluster.client(), cluster.client(), cluster.client()];
    try {
      const breakers = Object.fromEntries(names.map((n) => [n, rate]));
      const members = clients.map((client) =>
        instances.add(
          (warn) => new RedisStateStore({ client, flushIntervalMs: 50, logger: { warn } }),
          breakers,
        ),
      );
      await waitFor('shared', () => members.every((m) => m.store.status === 'shared'), 10_000);
      // 4 calls per instance and breaker, 3 failures: only the fleet reaches minimumCalls.
      for (const m of members) {
        for (const name of names) {
          await m.registry.get(name).executePromise(ok);
          for (let n = 0; n < 3; n++)
            await expect(m.registry.get(name).executePromise(fail)).rejects.toThrow();
        }
      }
      await waitFor(
        'every breaker open on every instance',
        () => members.every((m) => names.every((n) => m.registry.get(n).state === CircuitState.OPEN)),
        10_000,
      );
      // The instance whose flush crossed the threshold names the fleet-wide rate; others adopt it.
      for (const n of names) {
        const reasons = members.map(
          (m) =>
            m.registry
              .get(n)
              .recentEvents()
              .filter((e) => e.type === 'state_change')
              .at(-1)?.reason ?? '',
        );
        expect(reasons.some((r) => /failure rate .* \(fleet-wide\)/.test(r))).toBe(true);
      }
      for (const m of members) {
        expect(m.warnings).toEqual([]);
      }
    } finally {
      await instances.close();
      for (const client of clients) client.disconnect();
    }
  });

  it('publishes on sharded channels (one per breaker, on the node of its slot), not on the cluster bus', async () => {
    const name = names[1];
    const a = instances.add(
      (warn) =>
        new RedisStateStore({
          connection: { cluster: cluster.nodes },
          flushIntervalMs: 50,
          logger: { warn },
        }),
      { [name]: {} },
    );
    await waitFor('shared', () => a.store.status === 'shared', 10_000);
    const master = await cluster.masterOf(`cb:{${name}}:s`);
    const node = new Redis(master.port, '127.0.0.1');
    try {
      const channel = `cb:{${name}}:changes`;
      await waitFor('a sharded subscriber', async () => {
        const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        return Number(reply[1]) === 1;
      });
      const classic = (await node.call('PUBSUB', 'NUMSUB', 'cb:changes')) as [string, number];
      expect(Number(classic[1])).toBe(0);
    } finally {
      node.disconnect();
    }
  });

  it('names a plain Redis client on a cluster node as a misconfiguration, once, and keeps deciding locally', async () => {
    const m = instances.add(
      (warn) =>
        new RedisStateStore({
          connection: `redis://127.0.0.1:${cluster.nodes[0].port}`,
          flushIntervalMs: 50,
          logger: { warn },
        }),
      { x: { failureThreshold: 1 } },
    );
    await waitFor('the warning', () => m.warnings.length > 0, 10_000);
    expect(m.warnings[0]).toMatch(
      /misconfigured: the server is a Redis Cluster node but the client is a plain ioredis Redis: pass an ioredis Cluster/,
    );
    expect(m.store.status).toBe('degraded');
    expect(m.registry.get('x').snapshot().store).toBe('degraded');
    await expect(m.registry.get('x').executePromise(ok)).resolves.toBe('ok');
    await expect(m.registry.get('x').executePromise(fail)).rejects.toThrow();
    expect(m.registry.get('x').state).toBe(CircuitState.OPEN);
    expect(m.warnings).toHaveLength(1);
  });

  it('rejects a malformed cluster connection with the option named', () => {
    expect(() => new RedisStateStore({ connection: { cluster: [] } })).toThrow(
      /connection.cluster must be a non-empty array of nodes/,
    );
    expect(() => new RedisStateStore({ connection: { cluster: [null] } as never })).toThrow(
      /connection.cluster nodes must be URLs, ports or \{ host, port \}, got null/,
    );
    expect(() => new RedisStateStore({ connection: { cluster: [7000], host: 'x' } as never })).toThrow(
      /takes only cluster and clusterOptions, got "host"/,
    );
  });
});

describe('RedisStateStore on a Redis Cluster with replicas, through a master failover', () => {
  let cluster: RedisCluster;
  const instances = fleet();

  beforeAll(async () => {
    cluster = await RedisCluster.start(3, 1);
  });
  afterEach(() => instances.close());
  afterAll(() => cluster.stop());

  it('keeps calls going locally, then converges on the promoted replica', async () => {
    const [pay, other] = namesOnDifferentSlots('cb:', 2);
    const options = { failureThreshold: 3, halfOpenAfterMs: 60_000 };
    const breakers = { [pay]: options, [other]: options };
    const make = (warn: (m: string) => void) =>
      new RedisStateStore({
        connection: { cluster: cluster.nodes },
        flushIntervalMs: 50,
        timeoutMs: 50,
        logger: { warn },
      });
    const a = instances.add(make, breakers);
    const b = instances.add(make, breakers);
    await waitFor('shared', () => a.store.status === 'shared' && b.store.status === 'shared', 10_000);

    const master = await cluster.masterOf(`cb:{${pay}}:s`);
    await master.kill();
    // The breakers go on deciding locally: calls are answered, and A trips on its own.
    for (let n = 0; n < 50; n++) {
      await expect(a.registry.get(other).executePromise(() => Promise.resolve(n))).resolves.toBe(n);
    }
    for (let n = 0; n < 3; n++) await expect(a.registry.get(pay).executePromise(fail)).rejects.toThrow();
    expect(a.registry.get(pay).state).toBe(CircuitState.OPEN);

    // The replica takes over the slot (node timeout 1 s), and the fleet converges on it.
    await waitFor(
      'the replica promoted',
      () => cluster.masterOf(`cb:{${pay}}:s`).catch(() => false),
      20_000,
      50,
    );
    await waitFor(
      'b adopts the trip A decided during the failover',
      () => b.registry.get(pay).state === CircuitState.OPEN,
      10_000,
    );
    await waitFor(
      'both shared again',
      () => a.store.status === 'shared' && b.store.status === 'shared',
      10_000,
    );
    // Still one fleet afterwards: a trip of the other breaker spreads as before.
    for (let n = 0; n < 3; n++) await expect(b.registry.get(other).executePromise(fail)).rejects.toThrow();
    await waitFor('a opens other', () => a.registry.get(other).state === CircuitState.OPEN, 10_000);
    // At most one warning per instance for the outage (none if it stayed unnoticed).
    for (const m of [a, b]) {
      expect(m.warnings.length).toBeLessThanOrEqual(1);
      for (const w of m.warnings) expect(w).toMatch(/Redis state store unreachable/);
    }
  });
});
