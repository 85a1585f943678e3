'use strict';
const { timed, expect } = require('../harness/timed');

const boom = new Error('downstream failed');

/** Succeeds, fails, succeeds, ...: a 50% failure rate that no threshold below is set to reach. */
function alternating() {
  let k = 0;
  return async () => {
    k++;
    if ((k & 1) === 0) throw boom;
    return 1;
  };
}

/**
 * Shared bookkeeping for one subject: counts what came back and checks that exactly the odd calls
 * succeeded and the even ones failed with `boom` (so no call was rejected by an open circuit).
 */
function tally() {
  const t = { ok: 0, failed: 0, wrong: 0 };
  t.check = (n, closed, label) => {
    expect(t.wrong === 0, `${label}: ${t.wrong} calls failed with something other than the function's error`);
    expect(
      t.ok === Math.ceil(n / 2) && t.failed === Math.floor(n / 2),
      `${label}: ${t.ok} ok / ${t.failed} failed of ${n}`,
    );
    expect(closed, `${label}: the circuit did not stay closed`);
  };
  return t;
}

/** Our breaker with `options` (and `metricsOnly` when asked): the same loop for every window. */
function ours(label, options, metricsOnly = false) {
  return timed(({ libs }) => {
    const breaker = libs.ours.createBreaker('failure-path', options);
    if (metricsOnly) breaker.metricsOnly();
    const fn = alternating();
    const t = tally();
    return {
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          try {
            t.ok += await breaker.executePromise(fn);
          } catch (error) {
            if (error === boom) t.failed++;
            else t.wrong++;
          }
        }
      },
      check: (n) => {
        t.check(n, breaker.state === (metricsOnly ? 'metrics_only' : 'closed'), label);
        expect(
          breaker.snapshot().failedCalls === t.failed,
          `${label}: snapshot disagrees with the failures seen`,
        );
      },
    };
  });
}

function cockatiel(label, makeBreaker) {
  return timed(({ libs }) => {
    const { circuitBreaker, handleAll, CircuitState } = libs.cockatiel;
    const policy = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: makeBreaker(libs.cockatiel) });
    const fn = alternating();
    const t = tally();
    return {
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          try {
            t.ok += await policy.execute(fn);
          } catch (error) {
            if (error === boom) t.failed++;
            else t.wrong++;
          }
        }
      },
      check: (n) => t.check(n, policy.state === CircuitState.Closed, label),
    };
  });
}

function opossum(label, buckets) {
  return timed(({ libs }) => {
    const fn = alternating();
    const breaker = new libs.Opossum(fn, {
      errorThresholdPercentage: 100,
      rollingCountTimeout: 60_000,
      rollingCountBuckets: buckets,
      rollingPercentilesEnabled: false,
    });
    const t = tally();
    return {
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          try {
            t.ok += await breaker.fire();
          } catch (error) {
            if (error === boom) t.failed++;
            else t.wrong++;
          }
        }
      },
      check: (n) => t.check(n, breaker.closed, label),
      close: () => breaker.shutdown(),
    };
  });
}

const KEEP_CLOSED = { failureThreshold: Infinity, failureRateThreshold: 100 };

module.exports = {
  id: 'failure',
  order: 2,
  title: '2. Failure path, circuit kept closed (calls alternate success / failure)',
  unit: 'ns/call',
  cases: [
    {
      id: 'raw',
      lib: 'raw',
      label: 'raw `await fn()` in try/catch (floor)',
      measure: timed(() => {
        const fn = alternating();
        const t = tally();
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) {
              try {
                t.ok += await fn();
              } catch (error) {
                if (error === boom) t.failed++;
                else t.wrong++;
              }
            }
          },
          check: (n) => t.check(n, true, 'raw'),
        };
      }),
    },
    {
      id: 'ours-count-100',
      lib: 'ours',
      label: 'ours count window 100 (rate 100%, failureThreshold ∞)',
      peers: { cockatiel: 'cockatiel-count-100', opossum: 'opossum-10' },
      measure: ours('ours count 100', { ...KEEP_CLOSED, window: { type: 'count', size: 100 } }),
    },
    {
      id: 'ours-count-100k',
      lib: 'ours',
      label: 'ours count window 100,000',
      peers: { cockatiel: 'cockatiel-count-100k', opossum: 'opossum-10' },
      measure: ours('ours count 100,000', { ...KEEP_CLOSED, window: { type: 'count', size: 100_000 } }),
    },
    {
      id: 'ours-time-10',
      lib: 'ours',
      label: 'ours time window 60 s / 10 buckets',
      peers: { opossum: 'opossum-10' },
      measure: ours('ours time 10', {
        ...KEEP_CLOSED,
        window: { type: 'time', sizeMs: 60_000, buckets: 10 },
      }),
    },
    {
      id: 'ours-time-10k',
      lib: 'ours',
      label: 'ours time window 60 s / 10,000 buckets',
      peers: { opossum: 'opossum-10k' },
      measure: ours('ours time 10,000', {
        ...KEEP_CLOSED,
        window: { type: 'time', sizeMs: 60_000, buckets: 10_000 },
      }),
    },
    {
      id: 'ours-consecutive',
      lib: 'ours',
      label: 'ours defaults (consecutive trip only: never 5 in a row)',
      peers: { cockatiel: 'cockatiel-consecutive' },
      measure: ours('ours defaults', undefined),
    },
    {
      id: 'ours-metrics-only',
      lib: 'ours',
      label: 'ours defaults + metricsOnly()',
      measure: ours('ours metrics-only', undefined, true),
    },
    {
      id: 'cockatiel-count-100',
      lib: 'cockatiel',
      label: 'cockatiel CountBreaker(threshold 0.99, size 100)',
      measure: cockatiel('cockatiel count 100', (c) => new c.CountBreaker({ threshold: 0.99, size: 100 })),
    },
    {
      id: 'cockatiel-count-100k',
      lib: 'cockatiel',
      label: 'cockatiel CountBreaker(threshold 0.99, size 100,000)',
      measure: cockatiel(
        'cockatiel count 100,000',
        (c) => new c.CountBreaker({ threshold: 0.99, size: 100_000 }),
      ),
    },
    {
      id: 'cockatiel-consecutive',
      lib: 'cockatiel',
      label: 'cockatiel ConsecutiveBreaker(5)',
      measure: cockatiel('cockatiel consecutive', (c) => new c.ConsecutiveBreaker(5)),
    },
    {
      id: 'opossum-10',
      lib: 'opossum',
      label: 'opossum 60 s / 10 buckets (errorThresholdPercentage 100, percentiles off)',
      scale: 0.05,
      measure: opossum('opossum 10 buckets', 10),
    },
    {
      id: 'opossum-10k',
      lib: 'opossum',
      label: 'opossum 60 s / 10,000 buckets (same)',
      scale: 0.0002,
      measure: opossum('opossum 10,000 buckets', 10_000),
    },
  ],
  targets: [
    {
      label: 'failure path flat: count window 100,000 vs 100 within ±20%',
      of: 'ours-count-100k',
      vs: 'ours-count-100',
      within: [0.8, 1.2],
    },
    {
      label: 'failure path flat: time window 10,000 vs 10 buckets within ±20%',
      of: 'ours-time-10k',
      vs: 'ours-time-10',
      within: [0.8, 1.2],
    },
  ],
  notes: [
    'Every loop checks that exactly half the calls failed with the function’s own error (none was rejected by an open circuit) and that the circuit is still closed.',
    'Each failure costs ~1 µs in Node itself (a promise rejected before anyone awaits it goes through the unhandled-rejection bookkeeping): see the raw row.',
    'opossum computes its window statistics on every failure by summing every bucket, so its cost grows with the bucket count; with its default rollingPercentilesEnabled it also concatenates and sorts every latency in the window on each failure, which does not finish at these call counts, so it is measured with percentiles off and fewer calls (calls/run column).',
  ],
};
