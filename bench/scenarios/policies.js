'use strict';
const { timed, expect } = require('../harness/timed');
const { median } = require('../harness/stats');

/**
 * What the bulkhead and a configured-but-idle retry add to one call that succeeds at once. The targets are
 * absolute (ns over the same breaker without the policy), which the harness's ratio targets cannot express:
 * this file records its own samples and reports the paired differences through `checks`.
 */

const BULKHEAD_LIMIT_NS = 50;
const RETRY_LIMIT_NS = 30;

const one = async () => 1;

/**
 * Every figure each case returned, in round order. The runner runs each case exactly once per round and
 * round 0 is its warm-up, so sample k of one case and sample k of another come from the same round.
 */
const samples = new Map();

function recorded(id, measure) {
  return async (ctx, n) => {
    const value = await measure(ctx, n);
    if (!samples.has(id)) samples.set(id, []);
    samples.get(id).push(value);
    return value;
  };
}

/** Median over the measured rounds of `of` minus `vs` from the same round (warm-up dropped). */
function pairedDifference(ctx, of, vs) {
  for (const id of [of, vs]) {
    const count = samples.get(id)?.length ?? 0;
    // The pairing rests on the runner's round structure: if that changes, refuse rather than mispair.
    expect(
      count === ctx.runs + 1,
      `policies: case ${id} ran ${count} times, expected ${ctx.runs} runs + warm-up`,
    );
  }
  const a = samples.get(of).slice(1);
  const b = samples.get(vs).slice(1);
  return median(a.map((value, round) => value - b[round]));
}

function differenceChecks(ctx, log) {
  const row = (label, of, vs, limit) => {
    const ns = pairedDifference(ctx, of, vs);
    log(`  policies: ${label}: ${ns.toFixed(1)} ns`);
    return {
      label,
      value: `${ns >= 0 ? '+' : ''}${ns.toFixed(1)} ns/call`,
      limit: limit === undefined ? undefined : `≤ ${limit} ns`,
      pass: limit === undefined ? undefined : ns <= limit,
    };
  };
  const rows = [
    row(
      'bulkhead { maxConcurrent: 100 }, uncontended: ours over no bulkhead',
      'ours-bulkhead',
      'ours',
      BULKHEAD_LIMIT_NS,
    ),
    row(
      'retry { maxAttempts: 3 }, never triggered: ours over no retry',
      'ours-retry',
      'ours',
      RETRY_LIMIT_NS,
    ),
    row(
      'reference: cockatiel bulkhead(100) over its breaker alone',
      'cockatiel-bulkhead',
      'cockatiel',
      undefined,
    ),
    row('reference: cockatiel retry over its breaker alone', 'cockatiel-retry', 'cockatiel', undefined),
  ];
  samples.clear();
  return rows;
}

/** Each case's breaker must have recorded every call as a success, with nothing retried or left running. */
function checkOurs(breaker, sum, n, label) {
  const s = breaker.snapshot();
  expect(
    sum === n && s.state === 'closed' && s.successfulCalls === n && s.totalCalls === n,
    `${label}: summed ${sum}/${n}, ${s.successfulCalls} successes of ${s.totalCalls} calls, ${s.state}`,
  );
  expect(s.bulkheadActive === 0 && s.bulkheadQueued === 0, `${label}: bulkhead slots left taken`);
}

module.exports = {
  id: 'policies',
  order: 9,
  title: '9. Policies: bulkhead (uncontended) and retry (never triggered), added cost per call',
  unit: 'ns/call',
  cases: [
    {
      id: 'raw',
      lib: 'raw',
      label: 'raw `await fn()` (floor)',
      measure: recorded(
        'raw',
        timed(() => async (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += await one();
          expect(sum === n, `raw loop summed ${sum}, expected ${n}`);
        }),
      ),
    },
    {
      id: 'ours',
      lib: 'ours',
      label: 'ours executePromise, no bulkhead, no retry',
      peers: { cockatiel: 'cockatiel' },
      measure: recorded(
        'ours',
        timed(({ libs }) => {
          const breaker = libs.ours.createBreaker('policies-none');
          let sum = 0;
          return {
            run: async (n) => {
              for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
            },
            check: (n) => checkOurs(breaker, sum, n, 'ours, no policy'),
          };
        }),
      ),
    },
    {
      id: 'ours-bulkhead',
      lib: 'ours',
      label: 'ours executePromise, bulkhead { maxConcurrent: 100 }',
      peers: { cockatiel: 'cockatiel-bulkhead' },
      measure: recorded(
        'ours-bulkhead',
        timed(({ libs }) => {
          const breaker = libs.ours.createBreaker('policies-bulkhead', { bulkhead: { maxConcurrent: 100 } });
          let sum = 0;
          return {
            run: async (n) => {
              for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
            },
            check: (n) => checkOurs(breaker, sum, n, 'ours, bulkhead'),
          };
        }),
      ),
    },
    {
      id: 'ours-retry',
      lib: 'ours',
      label: 'ours executePromise, retry { maxAttempts: 3 } (never triggered)',
      peers: { cockatiel: 'cockatiel-retry' },
      measure: recorded(
        'ours-retry',
        timed(({ libs }) => {
          const breaker = libs.ours.createBreaker('policies-retry', { retry: { maxAttempts: 3 } });
          let sum = 0;
          return {
            run: async (n) => {
              for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
            },
            check: (n) => checkOurs(breaker, sum, n, 'ours, retry'),
          };
        }),
      ),
    },
    {
      id: 'cockatiel',
      lib: 'cockatiel',
      label: 'cockatiel circuitBreaker(ConsecutiveBreaker(5)) alone',
      measure: recorded(
        'cockatiel',
        timed(({ libs }) => {
          const { circuitBreaker, handleAll, ConsecutiveBreaker, CircuitState } = libs.cockatiel;
          const breaker = circuitBreaker(handleAll, {
            halfOpenAfter: 60_000,
            breaker: new ConsecutiveBreaker(5),
          });
          let sum = 0;
          return {
            run: async (n) => {
              for (let i = 0; i < n; i++) sum += await breaker.execute(one);
            },
            check: (n) =>
              expect(
                sum === n && breaker.state === CircuitState.Closed,
                `cockatiel alone summed ${sum}/${n}`,
              ),
          };
        }),
      ),
    },
    {
      id: 'cockatiel-bulkhead',
      lib: 'cockatiel',
      label: 'cockatiel wrap(breaker, bulkhead(100)) (bulkhead inside the breaker, as ours)',
      measure: recorded(
        'cockatiel-bulkhead',
        timed(({ libs }) => {
          const { circuitBreaker, bulkhead, wrap, handleAll, ConsecutiveBreaker, CircuitState } =
            libs.cockatiel;
          const breaker = circuitBreaker(handleAll, {
            halfOpenAfter: 60_000,
            breaker: new ConsecutiveBreaker(5),
          });
          const limiter = bulkhead(100);
          const policy = wrap(breaker, limiter);
          let sum = 0;
          return {
            run: async (n) => {
              for (let i = 0; i < n; i++) sum += await policy.execute(one);
            },
            check: (n) =>
              expect(
                sum === n && breaker.state === CircuitState.Closed && limiter.executionSlots === 100,
                `cockatiel bulkhead summed ${sum}/${n}, ${limiter.executionSlots} slots free`,
              ),
          };
        }),
      ),
    },
    {
      id: 'cockatiel-retry',
      lib: 'cockatiel',
      label: 'cockatiel wrap(retry(maxAttempts 2), breaker) (3 attempts in all, as ours)',
      measure: recorded(
        'cockatiel-retry',
        timed(({ libs }) => {
          const {
            circuitBreaker,
            retry,
            wrap,
            handleAll,
            ConsecutiveBreaker,
            ExponentialBackoff,
            CircuitState,
          } = libs.cockatiel;
          const breaker = circuitBreaker(handleAll, {
            halfOpenAfter: 60_000,
            breaker: new ConsecutiveBreaker(5),
          });
          const retries = retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() });
          let retried = 0;
          const listener = retries.onRetry(() => retried++);
          const policy = wrap(retries, breaker);
          let sum = 0;
          return {
            run: async (n) => {
              for (let i = 0; i < n; i++) sum += await policy.execute(one);
            },
            check: (n) =>
              expect(
                sum === n && retried === 0 && breaker.state === CircuitState.Closed,
                `cockatiel retry summed ${sum}/${n} with ${retried} retries`,
              ),
            close: () => listener.dispose(),
          };
        }),
      ),
    },
  ],
  targets: [],
  checks: differenceChecks,
  notes: [
    'Each call is `await subject(fn)` with `fn = async () => 1`; every loop checks that all calls returned 1, the circuit stayed closed, nothing was retried and no bulkhead slot stayed taken.',
    'The ns figures under the table are paired: in each run, the policy case’s figure minus the bare breaker’s from the same run; the median of those differences is reported (and checked against the issue’s limits).',
    'cockatiel’s `maxAttempts` counts retries (2 = 3 attempts), ours counts attempts (3). Its rows are there for scale, not as targets.',
  ],
};
