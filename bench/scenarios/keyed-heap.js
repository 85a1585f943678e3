'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');
const { expect } = require('../harness/timed');
const { ROOT } = require('../harness/subjects');

/** Keys held alive by our rows (the issue's scale), and what the peers' rows hold (their breakers are big). */
const KEYS = 100_000;
const PEER_BREAKERS = 10_000;
const FAMILIES = 10;
const RENDERS = 9;
const RENDER_LIMIT_MS = 50;
const IDLE_MS = 1_000;
const CHILD = path.join(__dirname, '..', 'children', 'hold-keys.js');

const one = async () => 1;

async function threeCalls(call) {
  for (let k = 0; k < 3; k++) expect((await call()) === 1, 'a call did not return 1');
}

/** Heap bytes per item: heapUsed after full GCs, before and after creating `count` items that saw 3 calls. */
function heapPer(count, setup, call) {
  return async (ctx) => {
    const held = new Array(count).fill(undefined);
    const create = setup(ctx.libs);
    ctx.gc();
    ctx.gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < count; i++) {
      const item = create(i);
      await threeCalls(() => call(item));
      held[i] = item;
    }
    ctx.gc();
    ctx.gc();
    const after = process.memoryUsage().heapUsed;
    expect(
      held.every((b) => b !== undefined),
      'an item went missing before the heap was measured',
    );
    return (after - before) / count;
  };
}

function http(ctx, file) {
  const dir = ctx.ours === undefined ? path.join(ROOT, 'dist', 'http') : path.resolve(ctx.ours, '..', 'http');
  return require(path.join(dir, file));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median ms of `render()` over RENDERS runs (after two warm-ups). */
function time(render) {
  const times = [];
  let size = 0;
  for (let i = 0; i < RENDERS + 2; i++) {
    const start = process.hrtime.bigint();
    size = render();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= 2) times.push(ms);
  }
  return { ms: median(times), size };
}

/** The child holding KEYS keys idle: its CPU while nothing happens. */
function idleCheck(ctx) {
  return new Promise((resolve, reject) => {
    const args = [CHILD, String(KEYS), String(IDLE_MS)];
    if (ctx.ours !== undefined) args.push(ctx.ours);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || !out.includes('\n')) reject(new Error(`hold-keys child failed (${code}): ${err}`));
      else resolve(JSON.parse(out.split('\n')[0]));
    });
  });
}

async function checks(ctx, log) {
  const registry = new ctx.libs.ours.BreakerRegistry({ defaults: { keys: { max: KEYS } } });
  const { BreakerMetricsCollector } = http(ctx, 'prometheus/collector.js');
  const collector = new BreakerMetricsCollector(registry).start();
  for (let i = 0; i < KEYS; i++) {
    const breaker = registry.get(`family-${i % FAMILIES}`, `key-${i}`);
    await breaker.executePromise(one);
  }
  const json = time(() => JSON.stringify(registry.metrics()).length);
  const prom = time(() => collector.render().length);
  collector.dispose();
  log(`  keyed: GET /circuit-breakers ${json.ms.toFixed(2)} ms, /metrics ${prom.ms.toFixed(2)} ms`);
  const idle = await idleCheck(ctx);
  log(`  keyed: ${idle.held} idle keys: ${idle.idleCpuMs.toFixed(1)} ms CPU in ${IDLE_MS} ms`);
  const label = `${KEYS.toLocaleString('en-US')} keys in ${FAMILIES} families`;
  return [
    {
      label: `GET /circuit-breakers body (registry.metrics() + JSON), ${label} (median of ${RENDERS})`,
      value: `${json.ms.toFixed(2)} ms (${(json.size / 1024).toFixed(0)} KiB)`,
      limit: `≤ ${RENDER_LIMIT_MS} ms`,
      pass: json.ms <= RENDER_LIMIT_MS,
    },
    {
      label: `render /metrics, ${label} (median of ${RENDERS})`,
      value: `${prom.ms.toFixed(2)} ms (${(prom.size / 1024).toFixed(0)} KiB)`,
      limit: `≤ ${RENDER_LIMIT_MS} ms`,
      pass: prom.ms <= RENDER_LIMIT_MS,
    },
    {
      label: `CPU while idle ${IDLE_MS} ms with ${idle.held.toLocaleString('en-US')} keys alive`,
      value: `${idle.idleCpuMs.toFixed(1)} ms (referenced timers: ${idle.timers})`,
    },
  ];
}

module.exports = {
  id: 'keyed-heap',
  order: 10,
  needsGc: true,
  title: `10. Keyed breakers at scale: heap per key (${KEYS.toLocaleString('en-US')} keys alive), family views, idle CPU`,
  unit: 'bytes/breaker',
  cases: [
    {
      id: 'ours-key',
      lib: 'ours',
      label: `ours registry.get('payment', key), ${KEYS.toLocaleString('en-US')} keys, 3 successful calls each (registry included)`,
      peers: { cockatiel: 'cockatiel', opossum: 'opossum' },
      measure: heapPer(
        KEYS,
        (libs) => {
          const registry = new libs.ours.BreakerRegistry({ breakers: { payment: { keys: { max: KEYS } } } });
          return (i) => registry.get('payment', `merchant-${i}`);
        },
        (b) => b.executePromise(one),
      ),
    },
    {
      id: 'cockatiel',
      lib: 'cockatiel',
      label: `cockatiel circuitBreaker(ConsecutiveBreaker(5)), ${PEER_BREAKERS.toLocaleString('en-US')} breakers, 3 successful calls`,
      measure: heapPer(
        PEER_BREAKERS,
        (libs) => () =>
          libs.cockatiel.circuitBreaker(libs.cockatiel.handleAll, {
            halfOpenAfter: 60_000,
            breaker: new libs.cockatiel.ConsecutiveBreaker(5),
          }),
        (b) => b.execute(one),
      ),
    },
    {
      id: 'opossum',
      lib: 'opossum',
      label: `opossum new CircuitBreaker(fn), ${PEER_BREAKERS.toLocaleString('en-US')} breakers, 3 successful calls`,
      measure: async (ctx) => {
        const held = [];
        const bytes = await heapPer(
          PEER_BREAKERS,
          (libs) => (i) => {
            const b = new libs.Opossum(one, { name: `b${i}` });
            held.push(b);
            return b;
          },
          (b) => b.fire(),
        )(ctx);
        for (const b of held) b.shutdown();
        return bytes;
      },
    },
  ],
  targets: [
    {
      label: 'heap per key < 900 B: ours ≤ 0.75× cockatiel (~1.2 KB)',
      of: 'ours-key',
      vs: 'cockatiel',
      max: 0.75,
    },
  ],
  checks,
  notes: [
    'Our row holds 100,000 keys of one family (keys.max raised to 100,000); bytes = (heapUsed after − before) / keys, after two full GCs each side, the registry, its map entries, recency list and key strings included. Peers hold 10,000 breakers (per-breaker figures do not depend on the count).',
    'Family views: 100,000 keys spread over 10 families, each key called once, with the metrics collector attached; the JSON row is what GET /circuit-breakers serialises.',
  ],
};
