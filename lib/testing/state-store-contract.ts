import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { BreakerRegistry } from '../core/registry';
import { CircuitState } from '../core/circuit-state';
import { CircuitOpenError } from '../core/errors';
import type { CircuitStateStore } from '../core/store';
import type { BreakerOptions } from '../core/types';

/**
 * The parts of a test runner the contract suite needs: jest, vitest and `node:test` all have them.
 * `afterEach`, when given, closes what a test opened even when the test failed; without it each test
 * closes its own stores on the way out.
 */
export interface ContractRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
  beforeEach?(body: () => unknown): unknown;
  afterEach?(body: () => Promise<void>): unknown;
}

/**
 * Makes one store on `namespace`. Two stores made with the same namespace must share one backend (they
 * play two instances of an app); stores of different namespaces must not see each other.
 */
export type StoreFactory = (namespace: string) => CircuitStateStore | Promise<CircuitStateStore>;

/** How long the suite waits for the fleet to agree before a test fails (generous: machines are busy). */
const DEADLINE_MS = 5_000;

interface Instance {
  registry: BreakerRegistry;
  store: CircuitStateStore;
}

/**
 * The conformance suite of a shared `CircuitStateStore`: what every instance of an app sees when they
 * share one store (trips, half-open probe permits, fleet-wide failure rates, manual control, close).
 * Runner-agnostic: pass your runner's `describe` and `it` (and `afterEach` to clean up on failure).
 * Waits poll with a generous deadline; no test depends on how fast the machine is.
 *
 * @example
 * // jest (or vitest: import { describe, it, afterEach } from 'vitest')
 * import { runStateStoreContract } from 'nestjs-breaker/testing';
 * runStateStoreContract({ describe, it, afterEach }, (namespace) =>
 *   new RedisStateStore({ connection: 'redis://127.0.0.1:6379', prefix: `${namespace}:` }),
 * );
 */
export function runStateStoreContract(runner: ContractRunner, makeStore: StoreFactory): void {
  const { describe, it } = runner;
  const opened: Instance[] = [];

  async function closeAll(): Promise<void> {
    for (const { registry, store } of opened.splice(0)) {
      registry.dispose();
      await store.close();
    }
  }

  /** Runs `body` with `count` instances sharing one fresh namespace. */
  function fleetTest(
    name: string,
    count: number,
    breakers: Record<string, BreakerOptions>,
    body: (fleet: Instance[]) => Promise<void>,
  ): void {
    it(name, async () => {
      const namespace = `contract-${randomBytes(4).toString('hex')}`;
      const fleet: Instance[] = [];
      try {
        for (let i = 0; i < count; i++) {
          const store = await makeStore(namespace);
          const registry = new BreakerRegistry({ breakers, store });
          const instance = { registry, store };
          fleet.push(instance);
          opened.push(instance);
        }
        await waitFor('every breaker to be shared', () =>
          fleet.every((i) =>
            Object.keys(breakers).every((b) => i.registry.get(b).snapshot().store === 'shared'),
          ),
        );
        await body(fleet);
      } finally {
        if (runner.afterEach === undefined) await closeAll();
      }
    });
  }

  describe('CircuitStateStore contract', () => {
    if (runner.afterEach !== undefined) runner.afterEach(closeAll);

    const tripping = { failureThreshold: 2, halfOpenAfterMs: 60_000 };

    fleetTest(
      'opens a breaker on every instance when one instance trips',
      3,
      { pay: tripping },
      async (fleet) => {
        const [a, ...others] = fleet;
        for (let i = 0; i < 2; i++) await rejects(a.registry.get('pay').executePromise(fail));
        assert.equal(a.registry.get('pay').state, CircuitState.OPEN);
        await waitFor('every instance open', () =>
          others.every((i) => i.registry.get('pay').state === CircuitState.OPEN),
        );
        for (const i of others) {
          const error = await rejects(i.registry.get('pay').executePromise(ok));
          assert.ok(error instanceof CircuitOpenError, `expected a CircuitOpenError, got ${String(error)}`);
          assert.ok(i.registry.get('pay').snapshot().retryAfterMs > 0, 'a fleet OPEN carries its timing');
        }
      },
    );

    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
    fleetTest(
      'keeps breakers apart: a trip of one opens that one only, wherever its keys live',
      2,
      Object.fromEntries(names.map((n) => [n, tripping])),
      async ([a, b]) => {
        for (const name of names.slice(0, 3)) {
          for (let i = 0; i < 2; i++) await rejects(a.registry.get(name).executePromise(fail));
        }
        await waitFor('the three tripped breakers open on b', () =>
          names.slice(0, 3).every((n) => b.registry.get(n).state === CircuitState.OPEN),
        );
        // b has taken the three trips; none of them touched another breaker.
        for (const name of names.slice(3)) assert.equal(await b.registry.get(name).executePromise(ok), 'ok');
        for (const name of names.slice(3)) {
          assert.equal(a.registry.get(name).state, CircuitState.CLOSED, `${name} on a`);
          assert.equal(b.registry.get(name).state, CircuitState.CLOSED, `${name} on b`);
        }
      },
    );

    const probing = { failureThreshold: 1, halfOpenAfterMs: 300, halfOpenMaxCalls: 1, successThreshold: 1 };
    fleetTest(
      'admits one half-open probe fleet-wide and closes everywhere on its success',
      2,
      { h: probing },
      async ([a, b]) => {
        await rejects(a.registry.get('h').executePromise(fail));
        await waitFor('b open', () => b.registry.get('h').state === CircuitState.OPEN);
        await waitFor('probe time', () =>
          [a, b].every((i) => i.registry.get('h').snapshot().retryAfterMs === 0),
        );
        let release: ((value: string) => void) | undefined;
        const probe = a.registry.get('h').executePromise(() => new Promise<string>((r) => (release = r)));
        // The probe runs once the fleet granted a's permit.
        await waitFor('a probing', () => release !== undefined);
        const refused = await rejects(b.registry.get('h').executePromise(ok));
        assert.ok(refused instanceof CircuitOpenError, `b's extra probe is refused, got ${String(refused)}`);
        release?.('probe ok');
        assert.equal(await probe, 'probe ok');
        await waitFor('closed everywhere', () =>
          [a, b].every((i) => i.registry.get('h').state === CircuitState.CLOSED),
        );
      },
    );

    fleetTest('re-opens every instance when a fleet probe fails', 2, { q: probing }, async ([a, b]) => {
      await rejects(a.registry.get('q').executePromise(fail));
      await waitFor('b open', () => b.registry.get('q').state === CircuitState.OPEN);
      await waitFor('probe time', () => b.registry.get('q').snapshot().retryAfterMs === 0);
      await rejects(b.registry.get('q').executePromise(fail));
      assert.equal(b.registry.get('q').state, CircuitState.OPEN);
      await waitFor('a re-opened for a new period', () => {
        const s = a.registry.get('q').snapshot();
        return s.state === CircuitState.OPEN && s.retryAfterMs > 0;
      });
      assert.equal(b.registry.get('q').snapshot().openedCount, 2);
    });

    const rate: BreakerOptions = {
      failureThreshold: 1000,
      failureRateThreshold: 50,
      minimumCalls: 10,
      window: { type: 'count', size: 100 },
    };
    fleetTest(
      'trips on the fleet-wide failure rate when no instance reaches minimumCalls alone',
      3,
      { rate },
      async (fleet) => {
        // 4 calls per instance, 3 of them failures: 75% everywhere, but 4 < minimumCalls on each instance.
        for (const i of fleet) {
          await i.registry.get('rate').executePromise(ok);
          for (let n = 0; n < 3; n++) await rejects(i.registry.get('rate').executePromise(fail));
        }
        await waitFor('fleet trip', () =>
          fleet.every((i) => i.registry.get('rate').state === CircuitState.OPEN),
        );
      },
    );

    fleetTest(
      'shares manual control: force-open, disable and reset from any instance',
      2,
      { m: {} },
      async ([a, b]) => {
        a.registry.get('m').forceOpen();
        await waitFor('b forced open', () => b.registry.get('m').state === CircuitState.FORCED_OPEN);
        b.registry.get('m').disable();
        await waitFor('a disabled', () => a.registry.get('m').state === CircuitState.DISABLED);
        a.registry.get('m').reset();
        await waitFor('b closed', () => b.registry.get('m').state === CircuitState.CLOSED);
      },
    );

    fleetTest('does not share across namespaces', 2, { pay: tripping }, async ([a, b]) => {
      const other = await makeStore(`contract-${randomBytes(4).toString('hex')}`);
      const registry = new BreakerRegistry({ breakers: { pay: tripping }, store: other });
      opened.push({ registry, store: other });
      await waitFor('shared', () => registry.get('pay').snapshot().store === 'shared');
      for (let i = 0; i < 2; i++) await rejects(a.registry.get('pay').executePromise(fail));
      await waitFor('b (same namespace) open', () => b.registry.get('pay').state === CircuitState.OPEN);
      assert.equal(registry.get('pay').state, CircuitState.CLOSED, 'another namespace stays closed');
    });

    fleetTest(
      'closes idempotently and leaves its breakers working alone',
      2,
      { c: tripping },
      async ([a, b]) => {
        await a.store.close();
        await a.store.close();
        assert.equal(a.registry.get('c').snapshot().store, 'memory');
        assert.equal(await a.registry.get('c').executePromise(ok), 'ok');
        for (let i = 0; i < 2; i++) await rejects(a.registry.get('c').executePromise(fail));
        assert.equal(a.registry.get('c').state, CircuitState.OPEN);
        assert.equal(b.registry.get('c').state, CircuitState.CLOSED, 'a closed store shares nothing');
      },
    );
  });
}

const ok = (): Promise<string> => Promise.resolve('ok');
const fail = (): Promise<never> => Promise.reject(new Error('downstream down'));

/** Awaits a promise that must reject; returns the reason. */
async function rejects(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: 'expected the call to be rejected' });
}

/** Polls until `check` holds; fails naming what it waited for. */
async function waitFor(what: string, check: () => boolean): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > until) throw new assert.AssertionError({ message: `timed out waiting for ${what}` });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
