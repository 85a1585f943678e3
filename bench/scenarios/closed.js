'use strict';
const { timed, expect } = require('../harness/timed');

// The window configuration of case (b): a time window with a failure-rate and a slow-call trip.
const TIME_WINDOW = { type: 'time', sizeMs: 60_000, buckets: 60 };
const OURS_B = {
  failureRateThreshold: 50,
  slowCallDurationMs: 1_000,
  slowCallRateThreshold: 50,
  window: TIME_WINDOW,
};

/** Every subject calls this: an async function that resolves at once, so the breaker's cost dominates. */
const one = async () => 1;

module.exports = {
  id: 'closed',
  order: 1,
  title: '1. Closed-state success path (sequential awaited calls)',
  unit: 'ns/call',
  cases: [
    {
      id: 'raw',
      lib: 'raw',
      label: 'raw `await fn()` (floor)',
      measure: timed(() => async (n) => {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += await one();
        expect(sum === n, `raw loop summed ${sum}, expected ${n}`);
      }),
    },
    {
      id: 'ours-a',
      lib: 'ours',
      label: '(a) consecutive trip · ours executePromise (defaults)',
      peers: { cockatiel: 'cockatiel-a', opossum: 'opossum-a' },
      measure: timed(({ libs }) => {
        const breaker = libs.ours.createBreaker('closed-a');
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
          },
          check: (n) => {
            expect(
              sum === n && breaker.state === 'closed',
              `ours (a) summed ${sum}/${n} in ${breaker.state}`,
            );
            expect(breaker.snapshot().successfulCalls === n, 'ours (a) did not record every success');
          },
        };
      }),
    },
    {
      id: 'ours-a-execute',
      lib: 'ours',
      label: '(a) consecutive trip · ours execute (shape-keeping)',
      peers: { cockatiel: 'cockatiel-a', opossum: 'opossum-a' },
      measure: timed(({ libs }) => {
        const breaker = libs.ours.createBreaker('closed-a-execute');
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await breaker.execute(one);
          },
          check: (n) => expect(sum === n && breaker.state === 'closed', `ours execute summed ${sum}/${n}`),
        };
      }),
    },
    {
      id: 'cockatiel-a',
      lib: 'cockatiel',
      label: '(a) consecutive trip · cockatiel ConsecutiveBreaker(5)',
      measure: timed(({ libs }) => {
        const { circuitBreaker, handleAll, ConsecutiveBreaker, CircuitState } = libs.cockatiel;
        const policy = circuitBreaker(handleAll, {
          halfOpenAfter: 60_000,
          breaker: new ConsecutiveBreaker(5),
        });
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await policy.execute(one);
          },
          check: (n) =>
            expect(sum === n && policy.state === CircuitState.Closed, `cockatiel (a) summed ${sum}/${n}`),
        };
      }),
    },
    {
      id: 'opossum-a',
      lib: 'opossum',
      label: '(a) opossum, defaults',
      measure: timed(({ libs }) => {
        const breaker = new libs.Opossum(one);
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await breaker.fire();
          },
          check: (n) => expect(sum === n && breaker.closed, `opossum (a) summed ${sum}/${n}`),
          close: () => breaker.shutdown(),
        };
      }),
    },
    {
      id: 'opossum-a-notimeout',
      lib: 'opossum',
      label: '(a) opossum, timeout: false (no per-call timer, like ours)',
      measure: timed(({ libs }) => {
        const breaker = new libs.Opossum(one, { timeout: false });
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await breaker.fire();
          },
          check: (n) => expect(sum === n && breaker.closed, `opossum (a, no timeout) summed ${sum}/${n}`),
          close: () => breaker.shutdown(),
        };
      }),
    },
    {
      id: 'ours-b',
      lib: 'ours',
      label: '(b) time window 60 s/60, rate 50% + slow-call · ours executePromise',
      peers: { cockatiel: 'cockatiel-b', opossum: 'opossum-b' },
      measure: timed(({ libs }) => {
        const breaker = libs.ours.createBreaker('closed-b', OURS_B);
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
          },
          check: (n) => expect(sum === n && breaker.state === 'closed', `ours (b) summed ${sum}/${n}`),
        };
      }),
    },
    {
      id: 'ours-b-noslow',
      lib: 'ours',
      label: '(b′) time window 60 s/60, rate 50%, no slow-call · ours executePromise',
      peers: { cockatiel: 'cockatiel-b', opossum: 'opossum-b' },
      measure: timed(({ libs }) => {
        const breaker = libs.ours.createBreaker('closed-b-noslow', {
          failureRateThreshold: 50,
          window: TIME_WINDOW,
        });
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
          },
          check: (n) => expect(sum === n && breaker.state === 'closed', `ours (b′) summed ${sum}/${n}`),
        };
      }),
    },
    {
      id: 'cockatiel-b',
      lib: 'cockatiel',
      label: '(b) cockatiel SamplingBreaker(threshold 0.5, duration 60 s)',
      measure: timed(({ libs }) => {
        const { circuitBreaker, handleAll, SamplingBreaker, CircuitState } = libs.cockatiel;
        const policy = circuitBreaker(handleAll, {
          halfOpenAfter: 60_000,
          breaker: new SamplingBreaker({ threshold: 0.5, duration: 60_000 }),
        });
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await policy.execute(one);
          },
          check: (n) =>
            expect(sum === n && policy.state === CircuitState.Closed, `cockatiel (b) summed ${sum}/${n}`),
        };
      }),
    },
    {
      id: 'opossum-b',
      lib: 'opossum',
      label: '(b) opossum rolling window 60 s/60 buckets, errorThresholdPercentage 50',
      measure: timed(({ libs }) => {
        const breaker = new libs.Opossum(one, {
          errorThresholdPercentage: 50,
          rollingCountTimeout: 60_000,
          rollingCountBuckets: 60,
        });
        let sum = 0;
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) sum += await breaker.fire();
          },
          check: (n) => expect(sum === n && breaker.closed, `opossum (b) summed ${sum}/${n}`),
          close: () => breaker.shutdown(),
        };
      }),
    },
    {
      id: 'then',
      lib: 'reference',
      label: 'reference: `await fn().then(f, g)` (least a wrapper that sees the outcome pays)',
      measure: timed(() => {
        const onValue = (value) => value;
        const onError = (error) => {
          throw error;
        };
        return async (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += await one().then(onValue, onError);
          expect(sum === n, `then loop summed ${sum}, expected ${n}`);
        };
      }),
    },
    {
      id: 'clock',
      lib: 'reference',
      label: 'reference: one `Date.now()` (what every timed call pays per clock read)',
      measure: timed(() => (n) => {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += Date.now();
        expect(sum > 0, 'Date.now() loop produced nothing');
      }),
    },
  ],
  targets: [
    { label: '(a) closed success: ours ≤ 2× raw await', of: 'ours-a', vs: 'raw', max: 2 },
    { label: '(a) closed success: ours ≤ 0.5× cockatiel', of: 'ours-a', vs: 'cockatiel-a', max: 0.5 },
    { label: '(a) closed success: ours ≤ 0.1× opossum', of: 'ours-a', vs: 'opossum-a', max: 0.1 },
    { label: '(b) closed success: ours ≤ 2× raw await', of: 'ours-b', vs: 'raw', max: 2 },
    { label: '(b) closed success: ours ≤ 0.5× cockatiel', of: 'ours-b', vs: 'cockatiel-b', max: 0.5 },
    { label: '(b) closed success: ours ≤ 0.1× opossum', of: 'ours-b', vs: 'opossum-b', max: 0.1 },
  ],
  notes: [
    'Each call is `await subject(fn)` with `fn = async () => 1`; every loop checks that all calls returned 1 and the circuit stayed closed.',
    'The `then` reference row is the least any wrapper pays that must record each outcome before its caller resumes: one more promise and one more microtask per call than the raw floor. Compare ours with that row: the difference is the breaker’s own work (state check, counters, permit generation).',
    '(b) reads the clock twice per call (start and end: slow-call detection needs the duration, the time window needs the bucket); (b′) once. The `Date.now()` row is one read on this machine. cockatiel’s SamplingBreaker reads it once per call and has no slow-call trip.',
  ],
};
