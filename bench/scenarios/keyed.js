'use strict';
const { timed, expect } = require('../harness/timed');

/** Keys that already exist in the "existing key" case (looked up round-robin). */
const EXISTING = 1_000;

function keys(prefix, n) {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}

module.exports = {
  id: 'keyed',
  order: 9,
  title: '9. Keyed breakers: registry.get(name, key) for an existing key and for a new one',
  unit: 'ns/call',
  cases: [
    {
      id: 'clock',
      lib: 'reference',
      label: 'systemClock.now() (the clock read every keyed lookup makes)',
      measure: timed((ctx) => {
        const clock = ctx.libs.ours.systemClock;
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += clock.now();
          },
          check: () => expect(sum > 0, 'the clock read nothing'),
        };
      }),
    },
    {
      id: 'construct',
      lib: 'reference',
      label: 'new Breaker(name, sharedOptions) alone (what a new key must build)',
      measure: timed((ctx) => {
        const registry = new ctx.libs.ours.BreakerRegistry({ breakers: { payment: {} } });
        const options = registry.get('payment').options;
        let made = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++)
              if (new ctx.libs.ours.Breaker('payment', options).state === 'closed') made++;
          },
          check: (n) => expect(made === n, 'a breaker was not built'),
        };
      }),
    },
    {
      id: 'unkeyed',
      lib: 'ours',
      label: 'registry.get(name) (unkeyed, for reference)',
      measure: timed((ctx) => {
        const registry = new ctx.libs.ours.BreakerRegistry({ breakers: { payment: {} } });
        let found = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) if (registry.get('payment') !== undefined) found++;
          },
          check: (n) => expect(found === n, 'a lookup failed'),
        };
      }),
    },
    {
      id: 'existing',
      lib: 'ours',
      label: `registry.get(name, key), ${EXISTING.toLocaleString('en-US')} existing keys round-robin`,
      peers: { unkeyed: 'unkeyed', clock: 'clock' },
      measure: timed((ctx) => {
        const registry = new ctx.libs.ours.BreakerRegistry({ breakers: { payment: {} } });
        const names = keys('merchant', EXISTING);
        for (const k of names) registry.get('payment', k);
        let found = 0;
        return {
          run: async (n) => {
            for (let i = 0, j = 0; i < n; i++, j = j === EXISTING - 1 ? 0 : j + 1)
              if (registry.get('payment', names[j]).key === names[j]) found++;
          },
          check: (n) => {
            expect(found === n, 'a key lookup returned another breaker');
            expect(registry.keys('payment').length === EXISTING, 'keys were evicted');
          },
        };
      }),
    },
    {
      id: 'new',
      lib: 'ours',
      label: 'registry.get(name, key) for a new key at keys.max 1,000 (each evicts the least recently used)',
      peers: { construct: 'construct' },
      measure: timed((ctx) => {
        const registry = new ctx.libs.ours.BreakerRegistry({ breakers: { payment: {} } });
        let created = 0;
        let seq = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) if (registry.get('payment', `m${seq++}`).key !== undefined) created++;
          },
          check: (n) => {
            expect(created === n, 'a new key went to the unkeyed breaker');
            expect(registry.keys('payment').length === 1_000, 'the family is not at keys.max');
          },
        };
      }),
    },
  ],
  targets: [],
  notes: [
    'The existing-key case reads a prepared array of key strings (as a key function reading `order.merchantId` would); the new-key case builds a fresh string per call (`m${seq}`), which is part of its figure, and evicts one key per call once the family holds 1,000.',
    'Each lookup reads the clock once (the key’s last use, for idle eviction).',
  ],
};
