import { Redis } from 'ioredis';
import { Observable, firstValueFrom, of } from 'rxjs';
import { BreakerRegistry, CircuitOpenError, CircuitState } from '../../lib/core';
import type { BreakerOptions } from '../../lib/core';
import { RedisStateStore } from '../../lib/integrations/redis';
import { breakerKeys } from '../../lib/integrations/redis/breaker-keys';
import { SCRIPTS } from '../../lib/integrations/redis/lua-scripts';
import { RedisServer, waitFor } from './support/redis-server';

/** Several "instances" in one process: each its own registry, store and connections, one Redis. */
describe('RedisStateStore (instances sharing one redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  const open: { registry: BreakerRegistry; store: RedisStateStore }[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = new Redis(redis.url);
  });

  afterEach(async () => {
    for (const { registry, store } of open.splice(0)) {
      registry.dispose();
      await store.close();
    }
    warnings.length = 0;
    await admin.flushall();
  });

  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });

  function instance(breakers: Record<string, BreakerOptions>, storeOptions = {}) {
    const store = new RedisStateStore({
      connection: redis.url,
      flushIntervalMs: 50,
      logger: { warn: (m) => warnings.push(m) },
      ...storeOptions,
    });
    const registry = new BreakerRegistry({ breakers, store });
    open.push({ registry, store });
    return { registry, store };
  }

  const fail = () => Promise.reject(new Error('downstream down'));
  const ok = () => Promise.resolve('ok');

  async function shared(...instances: { store: RedisStateStore }[]) {
    await waitFor('stores to reach Redis', () => instances.every((i) => i.store.status === 'shared'));
  }

  it('opens the breaker on every instance when one instance trips', async () => {
    const a = instance({ pay: { failureThreshold: 2, halfOpenAfterMs: 60_000 } });
    const b = instance({ pay: { failureThreshold: 2, halfOpenAfterMs: 60_000 } });
    await shared(a, b);
    expect(b.registry.get('pay').snapshot().store).toBe('shared');
    const tripped = Date.now();
    for (let i = 0; i < 2; i++) await expect(a.registry.get('pay').executePromise(fail)).rejects.toThrow();
    expect(a.registry.get('pay').state).toBe(CircuitState.OPEN);
    await waitFor('b to open', () => b.registry.get('pay').state === CircuitState.OPEN, 5_000);
    const propagation = Date.now() - tripped;
    const events = b.registry
      .get('pay')
      .recentEvents()
      .filter((e) => e.type === 'state_change');
    expect(events.at(-1)?.reason).toMatch(/^fleet: 2 consecutive failures/);
    await expect(b.registry.get('pay').executePromise(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    // Both agree on when the probe is allowed, up to the time the news took to travel (no fixed bound).
    const gap = Math.abs(
      a.registry.get('pay').snapshot().retryAfterMs - b.registry.get('pay').snapshot().retryAfterMs,
    );
    expect(gap).toBeLessThanOrEqual(propagation + 2);
  });

  it('refuses a transition written on a stale version and returns the newer record', async () => {
    const keys = breakerKeys('cb:', 'stale');
    const run = (version: string, state: string) =>
      admin
        .evalsha(
          SCRIPTS.transition.sha,
          3,
          keys.state,
          keys.window,
          keys.probes,
          version,
          state,
          '0',
          '1000',
          '1',
          '60000',
          'cb:changes',
          keys.tag,
          'test',
          'why',
        )
        .catch(() =>
          admin.eval(
            SCRIPTS.transition.source,
            3,
            keys.state,
            keys.window,
            keys.probes,
            version,
            state,
            '0',
            '1000',
            '1',
            '60000',
            'cb:changes',
            keys.tag,
            'test',
            'why',
          ),
        ) as Promise<unknown[]>;
    const first = await run('0', 'open');
    expect(first[0]).toBe(1);
    const v1 = first[1] as string;
    const second = await run(v1, 'closed');
    expect(second[0]).toBe(1);
    expect(BigInt(second[1] as string)).toBeGreaterThan(BigInt(v1));
    // A writer that still believes v1 is current must not overwrite the newer CLOSED record.
    const stale = await run(v1, 'open');
    expect(stale[0]).toBe(0);
    expect(stale[2]).toBe('closed');
    expect(await admin.hget(keys.state, 'st')).toBe('closed');
  });

  it('admits at most halfOpenMaxCalls probes across the fleet and closes on fleet-wide successes', async () => {
    const options = { failureThreshold: 1, halfOpenAfterMs: 300, halfOpenMaxCalls: 2, successThreshold: 2 };
    // Fleet permits, not CPU: a permit answer later than timeoutMs is decided locally by design.
    const roomy = { timeoutMs: 1_000 };
    const fleet = [
      instance({ inv: options }, roomy),
      instance({ inv: options }, roomy),
      instance({ inv: options }, roomy),
    ];
    await shared(...fleet);
    await expect(fleet[0].registry.get('inv').executePromise(fail)).rejects.toThrow();
    await waitFor(
      'all open',
      () => fleet.every((i) => i.registry.get('inv').state === CircuitState.OPEN),
      1_000,
    );
    await waitFor(
      'probe time',
      () => fleet.every((i) => i.registry.get('inv').snapshot().retryAfterMs === 0),
      2_000,
    );
    let running = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const probe = () => {
      running++;
      return gate.then(() => 'ok');
    };
    const calls = fleet.flatMap((i) =>
      Array.from({ length: 10 }, () => i.registry.get('inv').executePromise(probe)),
    );
    const settled = Promise.allSettled(calls);
    await waitFor('the probes to start', () => running === 2, 5_000);
    release();
    const results = await settled;
    expect(running).toBe(2);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(CircuitOpenError);
    await waitFor(
      'every instance closed',
      () => fleet.every((i) => i.registry.get('inv').state === CircuitState.CLOSED),
      5_000,
    );
  });

  it('admits fleet probes to Observable calls per subscription, and gives the permit back on unsubscribe', async () => {
    const options = { failureThreshold: 1, halfOpenAfterMs: 200, halfOpenMaxCalls: 1, successThreshold: 1 };
    // A permit answer later than timeoutMs is decided locally by design; on a busy machine the default
    // 50 ms can pass for CPU alone, and this test is about fleet permits, so it leaves room.
    const a = instance({ obs: options }, { timeoutMs: 1_000 });
    const b = instance({ obs: options }, { timeoutMs: 1_000 });
    await shared(a, b);
    await expect(a.registry.get('obs').executePromise(fail)).rejects.toThrow();
    await waitFor('b open', () => b.registry.get('obs').state === CircuitState.OPEN, 1_000);
    await waitFor(
      'probe time',
      () => [a, b].every((i) => i.registry.get('obs').snapshot().retryAfterMs === 0),
      2_000,
    );
    let started = 0;
    const pending = () =>
      new Observable<string>(() => {
        started++;
      });
    // A takes the fleet's only permit; B is refused while A's subscription holds it.
    const held = a.registry.get('obs').executeObservable(pending).subscribe();
    await waitFor('a probe running', () => started === 1, 1_000);
    const refused = await new Promise<unknown>((resolve) =>
      b.registry.get('obs').executeObservable(pending).subscribe({ error: resolve }),
    );
    expect(refused).toBeInstanceOf(CircuitOpenError);
    // Unsubscribing hands the permit back to the fleet: B's probe may run now, and its success closes everywhere.
    held.unsubscribe();
    // The permit travels back on A's connection while B asks on its own: B may be refused until it lands.
    const value = await waitFor('b admitted', () =>
      firstValueFrom(b.registry.get('obs').executeObservable(() => of('probe ok'))).catch(
        (error: unknown) => {
          if (!(error instanceof CircuitOpenError)) throw error;
          return undefined;
        },
      ),
    );
    expect(value).toBe('probe ok');
    expect(started).toBe(1);
    await waitFor(
      'both closed',
      () => [a, b].every((i) => i.registry.get('obs').state === CircuitState.CLOSED),
      1_000,
    );
  });

  it('re-opens every instance when one fleet probe fails', async () => {
    const options = { failureThreshold: 1, halfOpenAfterMs: 200, halfOpenMaxCalls: 1 };
    const a = instance({ q: options });
    const b = instance({ q: options });
    await shared(a, b);
    await expect(a.registry.get('q').executePromise(fail)).rejects.toThrow();
    await waitFor('b open', () => b.registry.get('q').state === CircuitState.OPEN, 1_000);
    await waitFor('probe time', () => b.registry.get('q').snapshot().retryAfterMs === 0, 5_000);
    const reopened = Date.now();
    await expect(b.registry.get('q').executePromise(fail)).rejects.toThrow('downstream down');
    expect(b.registry.get('q').state).toBe(CircuitState.OPEN);
    await waitFor(
      'a re-opened',
      () =>
        a.registry.get('q').state === CircuitState.OPEN && a.registry.get('q').snapshot().retryAfterMs > 0,
      5_000,
    );
    const propagation = Date.now() - reopened;
    // A was OPEN all along from its own view: it takes the new OPEN period's timing (no extra transition).
    const gap = Math.abs(
      a.registry.get('q').snapshot().retryAfterMs - b.registry.get('q').snapshot().retryAfterMs,
    );
    expect(gap).toBeLessThanOrEqual(propagation + 2);
    expect(b.registry.get('q').snapshot().openedCount).toBe(2);
  });

  it('trips on the fleet-wide failure rate when no single instance reaches minimumCalls', async () => {
    const options: BreakerOptions = {
      failureThreshold: 1000,
      failureRateThreshold: 50,
      minimumCalls: 10,
      window: { type: 'count', size: 100 },
    };
    const fleet = [instance({ rate: options }), instance({ rate: options }), instance({ rate: options })];
    await shared(...fleet);
    // 4 calls per instance, 3 of them failures: 75% everywhere, but 4 < minimumCalls on each instance.
    for (const i of fleet) {
      await i.registry.get('rate').executePromise(ok);
      for (let n = 0; n < 3; n++) await expect(i.registry.get('rate').executePromise(fail)).rejects.toThrow();
    }
    for (const i of fleet) expect(i.registry.get('rate').snapshot().bufferedCalls).toBe(4);
    await waitFor(
      'fleet trip',
      () => fleet.every((i) => i.registry.get('rate').state === CircuitState.OPEN),
      2_000,
    );
    const reasons = fleet.map(
      (i) =>
        i.registry
          .get('rate')
          .recentEvents()
          .filter((e) => e.type === 'state_change')
          .at(-1)?.reason ?? '',
    );
    for (const r of reasons) expect(r).toMatch(/failure rate .* over 1[0-2] calls \(fleet-wide\)/);
  });

  it('shares manual control: force-open, disable and reset from any instance', async () => {
    const a = instance({ m: {} });
    const b = instance({ m: {} });
    await shared(a, b);
    a.registry.get('m').forceOpen();
    await waitFor('b forced open', () => b.registry.get('m').state === CircuitState.FORCED_OPEN, 1_000);
    b.registry.get('m').disable();
    await waitFor('a disabled', () => a.registry.get('m').state === CircuitState.DISABLED, 1_000);
    a.registry.get('m').reset();
    await waitFor('b closed', () => b.registry.get('m').state === CircuitState.CLOSED, 1_000);
  });

  it('never disconnects a client the app owns, and closes the one it created', async () => {
    const appClient = new Redis(redis.url);
    try {
      const owned = new RedisStateStore({ client: appClient, flushIntervalMs: 50 });
      const registry = new BreakerRegistry({ breakers: { x: {} }, store: owned });
      await waitFor('shared', () => owned.status === 'shared');
      registry.dispose();
      await owned.close();
      expect(await appClient.ping()).toBe('PONG');
      const created = new RedisStateStore({ connection: redis.url, flushIntervalMs: 50 });
      const r2 = new BreakerRegistry({ breakers: { x: {} }, store: created });
      await waitFor('shared', () => created.status === 'shared');
      const clients = async () => ((await admin.client('LIST')) as string).trim().split('\n').length;
      const before = await clients();
      r2.dispose();
      await created.close();
      await waitFor('its connections closed', async () => (await clients()) <= before - 2);
    } finally {
      appClient.disconnect();
    }
  });

  it('rejects bad options with a message that names the option', () => {
    expect(() => new RedisStateStore({ prefix: 'a{b}' })).toThrow(/prefix must not contain braces/);
    expect(() => new RedisStateStore({ timeoutMs: 0 })).toThrow(
      /timeoutMs must be an integer in \[1, 60000\]/,
    );
    expect(() => new RedisStateStore({ flushIntervalMs: 1.5 })).toThrow(/flushIntervalMs/);
    expect(() => new RedisStateStore({ client: {} as Redis })).toThrow(/client must be an ioredis/);
    expect(() => new RedisStateStore({ conection: 'x' } as never)).toThrow(/unknown option "conection"/);
    expect(() => new BreakerRegistry({ store: {} as never })).toThrow(/store must be a CircuitStateStore/);
  });
});
