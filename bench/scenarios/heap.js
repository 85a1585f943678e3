'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');
const { expect } = require('../harness/timed');

const CHILD = path.join(__dirname, '..', 'children', 'hold-breakers.js');
/** How long the child idles (to measure its timers' CPU) before it has nothing left to do. */
const IDLE_MS = 1_000;
/** "Exits by itself within a few seconds": the limit, counted from the child's last report. */
const EXIT_LIMIT_MS = 3_000;

const one = async () => 1;
const boom = new Error('downstream failed');
const failing = async () => {
  throw boom;
};

/**
 * Heap bytes per breaker: heapUsed after a full GC, before and after creating `ctx.breakers` breakers
 * that each saw `calls` calls, divided by the count. The breakers stay reachable until measured.
 * `setup(libs)` runs before the first reading and returns `create(i)` (a registry, say, is not a breaker).
 */
function heapPerBreaker(setup, calls, dispose) {
  return async (ctx) => {
    const count = ctx.breakers;
    const held = new Array(count).fill(undefined);
    const create = setup(ctx.libs);
    ctx.gc();
    ctx.gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < count; i++) {
      const breaker = create(i);
      await calls(breaker);
      held[i] = breaker;
    }
    ctx.gc();
    ctx.gc();
    const after = process.memoryUsage().heapUsed;
    expect(
      held.every((b) => b !== undefined),
      'a breaker went missing before the heap was measured',
    );
    if (dispose !== undefined) held.forEach(dispose);
    return (after - before) / count;
  };
}

async function threeCalls(call) {
  for (let k = 0; k < 3; k++) expect((await call()) === 1, 'a call did not return 1');
}

/** Spawns the child for `lib` and times its exit after its report; kills it (by its pid) past the limit. */
function exitCheck(ctx, lib) {
  return new Promise((resolve, reject) => {
    const args = [CHILD, lib, String(ctx.breakers), String(IDLE_MS)];
    if (lib === 'ours' && ctx.ours !== undefined) args.push(ctx.ours);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let reportedAt;
    let killer;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (reportedAt === undefined && out.includes('\n')) {
        reportedAt = Date.now();
        killer = setTimeout(() => child.kill('SIGKILL'), EXIT_LIMIT_MS);
      }
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      if (reportedAt === undefined) {
        reject(
          new Error(
            `the ${lib} child ended without its report (code ${code}, signal ${signal}): ${err.trim()}`,
          ),
        );
        return;
      }
      const report = JSON.parse(out.split('\n')[0]);
      const exitMs = Date.now() - reportedAt;
      resolve({ ...report, exitedOnItsOwn: signal === null && code === 0, exitMs });
    });
  });
}

module.exports = {
  id: 'heap',
  order: 4,
  needsGc: true,
  title: '4. Heap per breaker (each breaker has seen a few calls; full GC before and after)',
  unit: 'bytes/breaker',
  cases: [
    {
      id: 'ours',
      lib: 'ours',
      label: 'ours createBreaker(name), 3 successful calls',
      peers: { cockatiel: 'cockatiel', opossum: 'opossum' },
      measure: heapPerBreaker(
        (libs) => (i) => libs.ours.createBreaker(`b${i}`),
        (b) => threeCalls(() => b.executePromise(one)),
      ),
    },
    {
      id: 'ours-registry',
      lib: 'ours',
      label: 'ours BreakerRegistry.get(name), 3 successful calls',
      peers: { cockatiel: 'cockatiel', opossum: 'opossum' },
      measure: heapPerBreaker(
        (libs) => {
          const registry = new libs.ours.BreakerRegistry({});
          return (i) => registry.get(`b${i}`);
        },
        (b) => threeCalls(() => b.executePromise(one)),
      ),
    },
    {
      id: 'ours-window',
      lib: 'ours',
      label: 'ours with time window 60 s/60 + rate and slow-call trips, 3 successful calls',
      peers: { cockatiel: 'cockatiel-window', opossum: 'opossum' },
      measure: heapPerBreaker(
        (libs) => (i) =>
          libs.ours.createBreaker(`b${i}`, {
            failureRateThreshold: 50,
            slowCallDurationMs: 1_000,
            slowCallRateThreshold: 50,
            window: { type: 'time', sizeMs: 60_000, buckets: 60 },
          }),
        (b) => threeCalls(() => b.executePromise(one)),
      ),
    },
    {
      id: 'ours-window10',
      lib: 'ours',
      label: 'ours with time window 60 s/10 buckets + failure-rate trip, 1 successful call',
      peers: { cockatiel: 'cockatiel-window-1', opossum: 'opossum-1' },
      measure: heapPerBreaker(
        (libs) => (i) =>
          libs.ours.createBreaker(`b${i}`, {
            failureRateThreshold: 50,
            window: { type: 'time', sizeMs: 60_000, buckets: 10 },
          }),
        async (b) => expect((await b.executePromise(one)) === 1, 'a call did not return 1'),
      ),
    },
    {
      id: 'ours-failed',
      lib: 'ours',
      label: 'ours createBreaker(name), 2 successes + 1 failure (kept in recentEvents)',
      peers: { cockatiel: 'cockatiel', opossum: 'opossum' },
      measure: heapPerBreaker(
        (libs) => (i) => libs.ours.createBreaker(`b${i}`),
        async (b) => {
          await b.executePromise(one);
          await b.executePromise(failing).catch((e) => expect(e === boom, 'unexpected error'));
          await b.executePromise(one);
        },
      ),
    },
    {
      id: 'cockatiel',
      lib: 'cockatiel',
      label: 'cockatiel circuitBreaker(ConsecutiveBreaker(5)), 3 successful calls',
      measure: heapPerBreaker(
        (libs) => () =>
          libs.cockatiel.circuitBreaker(libs.cockatiel.handleAll, {
            halfOpenAfter: 60_000,
            breaker: new libs.cockatiel.ConsecutiveBreaker(5),
          }),
        (b) => threeCalls(() => b.execute(one)),
      ),
    },
    {
      id: 'cockatiel-window',
      lib: 'cockatiel',
      label: 'cockatiel circuitBreaker(SamplingBreaker 0.5/60 s), 3 successful calls',
      measure: heapPerBreaker(
        (libs) => () =>
          libs.cockatiel.circuitBreaker(libs.cockatiel.handleAll, {
            halfOpenAfter: 60_000,
            breaker: new libs.cockatiel.SamplingBreaker({ threshold: 0.5, duration: 60_000 }),
          }),
        (b) => threeCalls(() => b.execute(one)),
      ),
    },
    {
      id: 'cockatiel-window-1',
      lib: 'cockatiel',
      label: 'cockatiel circuitBreaker(SamplingBreaker 0.5/60 s), 1 successful call',
      measure: heapPerBreaker(
        (libs) => () =>
          libs.cockatiel.circuitBreaker(libs.cockatiel.handleAll, {
            halfOpenAfter: 60_000,
            breaker: new libs.cockatiel.SamplingBreaker({ threshold: 0.5, duration: 60_000 }),
          }),
        async (b) => expect((await b.execute(one)) === 1, 'a call did not return 1'),
      ),
    },
    {
      id: 'opossum-1',
      lib: 'opossum',
      label: 'opossum new CircuitBreaker(fn, { name }), 1 successful call',
      measure: heapPerBreaker(
        (libs) => (i) => new libs.Opossum(one, { name: `b${i}` }),
        async (b) => expect((await b.fire()) === 1, 'a call did not return 1'),
        (b) => b.shutdown(),
      ),
    },
    {
      id: 'opossum',
      lib: 'opossum',
      label: 'opossum new CircuitBreaker(fn, { name }), 3 successful calls',
      measure: heapPerBreaker(
        (libs) => (i) => new libs.Opossum(one, { name: `b${i}` }),
        (b) => threeCalls(() => b.fire()),
        (b) => b.shutdown(),
      ),
    },
  ],
  targets: [
    { label: 'heap per breaker: ours ≤ 0.5× cockatiel', of: 'ours', vs: 'cockatiel', max: 0.5 },
    { label: 'heap per breaker: ours ≤ 0.1× opossum', of: 'ours', vs: 'opossum', max: 0.1 },
    {
      label:
        'heap per breaker, 10-bucket time window + rate trip, 1 call: ours ≤ 0.5× cockatiel SamplingBreaker',
      of: 'ours-window10',
      vs: 'cockatiel-window-1',
      max: 0.5,
    },
    {
      label: 'heap per breaker, 10-bucket time window + rate trip, 1 call: ours ≤ 0.1× opossum',
      of: 'ours-window10',
      vs: 'opossum-1',
      max: 0.1,
    },
  ],
  async checks(ctx, log) {
    const rows = [];
    for (const lib of ['ours', 'cockatiel', 'opossum']) {
      log(`  heap: exit check with ${ctx.breakers.toLocaleString('en-US')} ${lib} breakers alive`);
      const r = await exitCheck(ctx, lib);
      const exit = r.exitedOnItsOwn
        ? `exited by itself ${r.exitMs} ms after its last work`
        : `still running ${EXIT_LIMIT_MS} ms after its last work (killed)`;
      rows.push({
        label: `${lib}: process with ${r.held.toLocaleString('en-US')} live breakers, never disposed`,
        value: `${exit}; CPU while idle ${IDLE_MS} ms: ${r.idleCpuMs.toFixed(0)} ms`,
      });
      if (lib === 'ours') {
        rows.push({
          label: `process exits by itself with ${r.held.toLocaleString('en-US')} of our breakers alive`,
          value: r.exitedOnItsOwn ? `${r.exitMs} ms` : 'no',
          limit: `≤ ${EXIT_LIMIT_MS} ms`,
          pass: r.exitedOnItsOwn && r.exitMs <= EXIT_LIMIT_MS,
        });
      }
    }
    return rows;
  },
  notes: [
    'Bytes = (heapUsed after − heapUsed before) / breakers, each side after two forced full GCs; the breakers are held in an array until measured (its 8 bytes per slot are allocated before the first reading).',
    'What ours holds after calls: the Breaker object itself (about 37 fields, ~320 B; rarely used counters and the fleet fields live in objects created on first use), the success/failure handler pair of the promise fast path (rebuilt once per state generation, ~180 B) and its options; event hubs, the recent-events ring and the disposal AbortController are created on first use. The row with one failure includes that event and the ring it starts.',
    'Exit check: a child process creates the breakers, calls each 3 times, keeps them all reachable without disposing them, idles (one referenced timer), reports, and stops; the parent times its exit. opossum 9 unrefs its per-breaker interval timers, so it exits too, but they keep firing: the idle CPU column shows that cost.',
  ],
};
