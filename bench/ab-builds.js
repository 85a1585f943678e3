'use strict';
/* global gc -- given by node --expose-gc */
// Two builds of our engine, interleaved in one process: `node --expose-gc bench/ab-builds.js BEFORE AFTER
// [--runs 7] [--calls 200000]`. Each round runs every case once per build (order alternating), so load on a
// busy machine hits both alike; the figure is the median over rounds of after/before for each case,
// paired within the round. Cockatiel runs in the same rounds, for the ratio the issue tracks.
// On the shared 2-core machine a position bias remained (whichever build is passed second measured
// ~1.15x slower, in both orders): run both orders and take the geometric mean of the two ratios.
const path = require('node:path');
const { parseArgs } = require('node:util');
const cockatiel = require('cockatiel');

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '7' }, calls: { type: 'string', default: '200000' } },
});
if (positionals.length !== 2 || typeof gc !== 'function') {
  console.error(
    'usage: node --expose-gc bench/ab-builds.js BEFORE_CORE_DIR AFTER_CORE_DIR [--runs N] [--calls N]',
  );
  process.exit(2);
}
const [before, after] = positionals.map((p) => require(path.resolve(p)));
const RUNS = Number(values.runs);
const CALLS = Number(values.calls);
const one = async () => 1;
const boom = new Error('down');
const failing = async () => {
  throw boom;
};

/**
 * Each case: (lib) => async (n) => void. The cases are compiled once per build (from one source text), so
 * each build's loops have call sites of their own: shared loops would see both builds' classes and go
 * polymorphic, which measured the second build loaded as up to 1.5x slower whichever it was.
 */
const CASES_SOURCE = `return {
  'closed success (defaults)': (lib) => {
    const b = lib.createBreaker('a');
    return async (n) => { for (let i = 0; i < n; i++) await b.executePromise(one); };
  },
  'closed success (10-bucket time window + rate)': (lib) => {
    const b = lib.createBreaker('a', { failureRateThreshold: 50, window: { type: 'time', sizeMs: 60000, buckets: 10 } });
    return async (n) => { for (let i = 0; i < n; i++) await b.executePromise(one); };
  },
  'failure path (count window 100)': (lib) => {
    const b = lib.createBreaker('a', { failureThreshold: Infinity, failureRateThreshold: 100, window: { type: 'count', size: 100 } });
    return async (n) => { for (let i = 0; i < n; i++) await b.executePromise(failing).catch(() => undefined); };
  },
  'open fast-fail': (lib) => {
    const b = lib.createBreaker('a');
    b.forceOpen();
    return async (n) => { for (let i = 0; i < n; i++) await b.executePromise(one).catch(() => undefined); };
  },
};`;
const casesFor = (lib) => {
  const cases = new Function('one', 'failing', CASES_SOURCE)(one, failing);
  return Object.fromEntries(Object.entries(cases).map(([name, make]) => [name, () => make(lib)]));
};
const ours = { before: casesFor(before), after: casesFor(after) };
const cockatielCases = {
  'closed success (defaults)': () =>
    cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 60_000,
      breaker: new cockatiel.ConsecutiveBreaker(5),
    }),
  'closed success (10-bucket time window + rate)': () =>
    cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 60_000,
      breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 60_000 }),
    }),
  'failure path (count window 100)': () =>
    cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 60_000,
      breaker: new cockatiel.CountBreaker({ threshold: 0.99, size: 100 }),
    }),
  'open fast-fail': () => {
    const p = cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 60_000,
      breaker: new cockatiel.ConsecutiveBreaker(1),
    });
    p.isolate();
    return p;
  },
};
function cockatielRun(name) {
  const p = cockatielCases[name]();
  const fn = name.startsWith('failure') ? failing : one;
  return async (n) => {
    for (let i = 0; i < n; i++) await p.execute(fn).catch(() => undefined);
  };
}

async function time(run, n) {
  gc();
  const t = process.hrtime.bigint();
  await run(n);
  return Number(process.hrtime.bigint() - t) / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const rows = [];
  for (const name of Object.keys(ours.before)) {
    const r = {
      before: [],
      after: [],
      cockatiel: [],
      ratio: [],
      beforeVsCockatiel: [],
      afterVsCockatiel: [],
    };
    for (const who of ['before', 'after']) await ours[who][name]()(CALLS / 10); // warm-up
    await cockatielRun(name)(CALLS / 10);
    for (let round = 0; round < RUNS; round++) {
      const order = round % 2 === 0 ? ['before', 'after', 'cockatiel'] : ['cockatiel', 'after', 'before'];
      const got = {};
      for (const who of order) {
        const run = who === 'cockatiel' ? cockatielRun(name) : ours[who][name]();
        got[who] = await time(run, CALLS);
      }
      for (const who of ['before', 'after', 'cockatiel']) r[who].push(got[who]);
      r.ratio.push(got.after / got.before);
      r.beforeVsCockatiel.push(got.before / got.cockatiel);
      r.afterVsCockatiel.push(got.after / got.cockatiel);
    }
    rows.push({
      case: name,
      'before ns': median(r.before).toFixed(0),
      'after ns': median(r.after).toFixed(0),
      'cockatiel ns': median(r.cockatiel).toFixed(0),
      'after/before': median(r.ratio).toFixed(2),
      'before × cockatiel': median(r.beforeVsCockatiel).toFixed(2),
      'after × cockatiel': median(r.afterVsCockatiel).toFixed(2),
    });
  }
  console.table(rows);
})();
