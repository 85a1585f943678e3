'use strict';
const { timed, expect } = require('../harness/timed');

/** A synchronous function with an argument, so that nothing can be folded away. */
const inc = (x) => x + 1;
const expected = (n) => (n * (n + 1)) / 2;

function ours(label, options, call) {
  return timed(({ libs }) => {
    const breaker = libs.ours.createBreaker('sync', options);
    let sum = 0;
    return {
      run: (n) => {
        for (let i = 0; i < n; i++) sum += call(breaker, i);
      },
      check: (n) => {
        expect(sum === expected(n), `${label}: summed ${sum}, expected ${expected(n)}`);
        expect(breaker.snapshot().successfulCalls === n, `${label}: not every success was recorded`);
      },
    };
  });
}

module.exports = {
  id: 'sync',
  order: 5,
  title: '5. Synchronous function through the breaker (no promise anywhere)',
  unit: 'ns/call',
  cases: [
    {
      id: 'raw',
      lib: 'raw',
      label: 'raw `fn(i)` (floor)',
      measure: timed(() => (n) => {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += inc(i);
        expect(sum === expected(n), `raw summed ${sum}`);
      }),
    },
    {
      id: 'ours-sync',
      lib: 'ours',
      label: 'ours executeSync(fn, i), defaults',
      measure: ours('executeSync', undefined, (b, i) => b.executeSync(inc, i)),
    },
    {
      id: 'ours-execute',
      lib: 'ours',
      label: 'ours execute(fn, i), defaults (shape kept: plain value out)',
      measure: ours('execute', undefined, (b, i) => b.execute(inc, i)),
    },
    {
      id: 'ours-sync-window',
      lib: 'ours',
      label: 'ours executeSync(fn, i), time window + rate and slow-call trips',
      measure: ours(
        'executeSync (window)',
        {
          failureRateThreshold: 50,
          slowCallDurationMs: 1_000,
          slowCallRateThreshold: 50,
          window: { type: 'time', sizeMs: 60_000, buckets: 60 },
        },
        (b, i) => b.executeSync(inc, i),
      ),
    },
  ],
  notes: [
    'cockatiel and opossum have no synchronous path: every call through them returns a promise.',
    'The windowed case reads the clock at the start and the end of each call (slow-call detection).',
  ],
};
