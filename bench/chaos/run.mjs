#!/usr/bin/env node
// `npm run chaos`: does an outage downstream cascade? Starts a real downstream (bench/chaos/downstream.js)
// and a Nest app in front of it (bench/chaos/chaos-app.ts, in a child process), then drives the app with
// closed-loop clients through phases — healthy, downstream hangs, fails fast, answers slowly, half the
// calls fail, healed — once with the breaker on and once off. Then the partial-outage comparison of the
// adaptive throttle (issue 11): no breaker, classic breaker, throttle k = 2 and k = 1.5, against a
// downstream failing half its calls and one serving at most N calls at a time.
// Writes docs/chaos.svg, docs/chaos.md, docs/throttle.svg and docs/throttle.md (vega-lite + vega).
// Options: --phase-seconds N (chaos run, default 6), --outage-seconds N (comparison, default 6),
// --clients N (default 16). Traffic stays on 127.0.0.1; every loop ends with its phase.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { renderChaosFigure, renderThrottleFigure } from './figures.mjs';
import { phaseStats, recoveryMs, seriesOf } from './stats.mjs';

const require = createRequire(import.meta.url);
const { startDownstream } = require('./downstream.js');
const { Recording, runClients } = require('./load.js');

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function option(name, fallback, min, max) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got "${process.argv[i + 1]}"`);
  return value;
}

const PHASE_S = option('phase-seconds', 6, 2, 60);
const OUTAGE_S = option('outage-seconds', 7, 3, 60);
/** The comparison measures the outage once the setups have settled: after its first 2 s (one window). */
const SETTLE_S = 2;
const CLIENTS = option('clients', 16, 1, 256);
const BUCKET_MS = 500;
const DOWNSTREAM = { okMs: 10, slowMs: 2_500, capacity: 4, cappedMs: 50 };

/** The chaos run's phases: [label, downstream mode]. */
const PHASES = [
  ['healthy', 'ok'],
  ['hangs', 'hang'],
  ['fails fast', 'fail'],
  ['slow (2.5 s)', 'slow'],
  ['half fail', 'half'],
  ['healed', 'ok'],
];
const RUNS = [
  ['breakers on', 'on'],
  ['breakers off', 'off'],
];
const COMPARED = [
  ['no breaker', 'off'],
  ['classic (rate trip 50%)', 'classic'],
  ['throttle k=2', 'throttle-k2'],
  ['throttle k=1.5', 'throttle-k1.5'],
];
const VARIANTS = [
  ['50% fail fast', 'half'],
  [`capacity ${DOWNSTREAM.capacity} concurrent, 503 beyond`, 'capped'],
];
const WARMUP_S = 1;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Starts the Nest app in a child process and resolves with its base URL once it listens. */
function startApp(downstreamUrl) {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'bench/chaos/chaos-app.ts'],
    {
      cwd: root,
      env: { ...process.env, CHAOS_DOWNSTREAM_URL: downstreamUrl, TS_NODE_PROJECT: 'tsconfig.json' },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the chaos app did not start within 90 s')), 90_000);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve({ child, url: `http://127.0.0.1:${JSON.parse(line).port}` });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the chaos app exited (${code}) before listening`));
    });
  });
}

async function post(url) {
  const res = await fetch(url, { method: 'POST' });
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}`);
  return res.json();
}

/**
 * Drives `setup` through `phases` ([label, mode, seconds]) with closed-loop clients; samples the
 * downstream's counters every BUCKET_MS. Prints a line per phase.
 */
async function drive({ app, downstream, setup, label, phases }) {
  if (setup !== 'off') await post(`${app}/circuit-breakers/${setup}/reset`);
  downstream.setMode(phases[0][1]);
  downstream.take();
  const recording = new Recording();
  const ticks = [];
  const bounds = [];
  const origin = performance.now();
  let stop = false;
  const sampler = setInterval(
    () => ticks.push({ t: performance.now() - origin, ...downstream.take() }),
    BUCKET_MS,
  );
  const clients = runClients({
    url: `${app}/call/${setup}`,
    clients: CLIENTS,
    origin,
    recording,
    shouldStop: () => stop,
  });
  try {
    for (const [name, mode, seconds] of phases) {
      const start = performance.now() - origin;
      // A sample at each boundary, so the downstream's counts split exactly between phases.
      ticks.push({ t: start, ...downstream.take() });
      downstream.setMode(mode);
      await sleep(seconds * 1_000);
      const end = performance.now() - origin;
      bounds.push({ name, mode, start, end });
      const s = phaseStats(recording, ticks, start, end);
      console.log(
        `  [${label}] ${name.padEnd(12)} ${fmt(s.rps).padStart(6)} req/s  ok ${fmt(s.okRps).padStart(6)}/s` +
          `  p50 ${fmt(s.p50, 1).padStart(7)} ms  p99 ${fmt(s.p99, 1).padStart(7)} ms` +
          `  downstream ${fmt(s.downstreamRps).padStart(5)} calls/s (${fmt(s.servedRps)} served)`,
      );
    }
  } finally {
    stop = true;
    downstream.setMode('ok'); // releases hung requests so every client loop can end
    await clients;
    clearInterval(sampler);
  }
  ticks.push({ t: performance.now() - origin, ...downstream.take() });
  return { recording, ticks, bounds };
}

async function main() {
  const began = Date.now();
  const downstream = await startDownstream(DOWNSTREAM);
  console.log(`chaos: downstream on ${downstream.url}; starting the Nest app (ts-node)...`);
  const { child, url: app } = await startApp(downstream.url);
  try {
    console.log(`chaos: app on ${app}; ${CLIENTS} closed-loop clients, phases of ${PHASE_S} s`);
    // Warm-up, not recorded: every route once through the JIT, so the first phase is not the cold start.
    for (const setup of ['on', 'off', 'classic', 'throttle-k2', 'throttle-k1.5']) {
      await drive({
        app,
        downstream,
        setup,
        label: `warm-up ${setup}`,
        phases: [['healthy', 'ok', WARMUP_S]],
      });
    }

    // ---- the chaos run: breakers on, then off
    const runs = [];
    for (const [label, setup] of RUNS) {
      console.log(`chaos run, ${label}:`);
      const run = await drive({
        app,
        downstream,
        setup,
        label,
        phases: PHASES.map(([name, mode]) => [name, mode, PHASE_S]),
      });
      runs.push({ label, setup, ...run });
    }

    // ---- the partial-outage comparison (issue 11)
    const compared = [];
    for (const [variantLabel, variant] of VARIANTS) {
      for (const [label, setup] of COMPARED) {
        console.log(`partial outage (${variantLabel}), ${label}:`);
        const run = await drive({
          app,
          downstream,
          setup,
          label,
          phases: [
            ['healthy', 'ok', WARMUP_S],
            ['settling', variant, SETTLE_S],
            ['outage', variant, OUTAGE_S - SETTLE_S],
          ],
        });
        const outage = run.bounds[2];
        const snapshot =
          setup === 'off' ? undefined : await (await fetch(`${app}/circuit-breakers/${setup}`)).json();
        compared.push({
          variant,
          variantLabel,
          setup,
          label,
          stats: phaseStats(run.recording, run.ticks, outage.start, outage.end),
          snapshot,
        });
      }
    }

    await writeReports(runs, compared, Date.now() - began);
  } finally {
    child.stdin.end(); // the app stops when its stdin closes
    child.kill('SIGTERM');
    await downstream.close();
  }
}

async function writeReports(runs, compared, elapsedMs) {
  const docs = path.join(root, 'docs');
  await mkdir(docs, { recursive: true });

  // ---- chaos.svg + chaos.md
  const series = runs.flatMap((r) => seriesOf(r.recording, r.ticks, BUCKET_MS, r.label));
  const phases = runs[0].bounds.map((b, i) => ({
    phase: b.name,
    start: b.start / 1000,
    end: b.end / 1000,
    i,
  }));
  await writeFile(path.join(docs, 'chaos.svg'), await renderChaosFigure(series, phases));

  const lines = [
    `| phase | run | upstream req/s | answered OK/s | p50 ms | p99 ms | downstream calls/s |`,
    `|---|---|---:|---:|---:|---:|---:|`,
  ];
  for (let p = 0; p < PHASES.length; p++) {
    for (const r of runs) {
      const b = r.bounds[p];
      const s = phaseStats(r.recording, r.ticks, b.start, b.end);
      lines.push(
        `| ${b.name} | ${r.label} | ${fmt(s.rps)} | ${fmt(s.okRps)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${fmt(s.downstreamRps)} |`,
      );
    }
  }
  const recovery = runs.map((r) => {
    const healed = r.bounds[r.bounds.length - 1];
    const ms = recoveryMs(r.recording, healed.start, healed.end);
    return `${r.label}: ${ms === undefined ? 'not within the phase' : `${fmt(ms / 1000, 1)} s`}`;
  });
  const chaosMd = [
    `<!-- written by \`npm run chaos\` (bench/chaos/run.mjs); do not edit by hand -->`,
    ``,
    `${CLIENTS} closed-loop clients, phases of ${PHASE_S} s, downstream healthy latency ${DOWNSTREAM.okMs} ms,`,
    `slow phase ${DOWNSTREAM.slowMs} ms. Breaker (\`on\`): 5 consecutive failures or 50% of the last 5 s`,
    `(at least 20 calls) open it for 2 s; calls time out after 1 s. \`off\`: the same call, unprotected.`,
    `Run took ${fmt(elapsedMs / 1000)} s.`,
    ``,
    ...lines,
    ``,
    `Time to recover after healing (from the heal until 95% of answers over the next second are OK): ${recovery.join('; ')}.`,
    ``,
  ].join('\n');
  // Formatted as `npm run lint` checks it (prettier --check .).
  await writeFile(path.join(docs, 'chaos.md'), await prettier.format(chaosMd, { parser: 'markdown' }));

  // ---- throttle.svg + throttle.md
  const rows = compared.map((c) => ({
    variant: c.variantLabel,
    capped: c.variant === 'capped',
    setup: c.label,
    goodput: c.stats.servedRps,
    beyondCapacity: c.stats.beyondRps,
    downstream: c.stats.downstreamRps,
    p99: c.stats.p99,
    rps: c.stats.rps,
  }));
  await writeFile(path.join(docs, 'throttle.svg'), await renderThrottleFigure(rows));
  const find = (variant, setup) => compared.find((c) => c.variant === variant && c.setup === setup).stats;
  const checks = [];
  for (const k of ['throttle-k2', 'throttle-k1.5']) {
    const kLabel = k === 'throttle-k2' ? 'k=2' : 'k=1.5';
    for (const [variantLabel, variant] of VARIANTS) {
      const t = find(variant, k);
      const classic = find(variant, 'classic');
      const ratio = t.servedRps / classic.servedRps;
      checks.push(
        `| ${kLabel} | ${variantLabel} | goodput ≥ 1.5× classic | ${fmt(ratio, 2)}× | ${ratio >= 1.5 ? 'met' : 'NOT met'} |`,
      );
      const p99Limit = classic.p99 * 1.1;
      checks.push(
        `| ${kLabel} | ${variantLabel} | p99 ≤ classic + 10% | ${fmt(t.p99, 1)} ms vs ${fmt(p99Limit, 1)} ms | ${t.p99 <= p99Limit ? 'met' : 'NOT met'} |`,
      );
    }
    const t = find('capped', k);
    const none = find('capped', 'off');
    const beyond = t.beyondRps / none.beyondRps;
    checks.push(
      `| ${kLabel} | ${VARIANTS[1][0]} | calls beyond capacity ≤ 0.5× no breaker | ${fmt(beyond, 2)}× | ${beyond <= 0.5 ? 'met' : 'NOT met'} |`,
    );
  }
  const table = [
    `| downstream | setup | upstream req/s | goodput (served/s) | downstream calls/s | beyond capacity/s | upstream p99 ms | throttled |`,
    `|---|---|---:|---:|---:|---:|---:|---:|`,
    ...compared.map(
      (c) =>
        `| ${c.variantLabel} | ${c.label} | ${fmt(c.stats.rps)} | ${fmt(c.stats.servedRps)} | ${fmt(c.stats.downstreamRps)} | ${c.variant === 'capped' ? fmt(c.stats.beyondRps) : '–'} | ${fmt(c.stats.p99, 1)} | ${c.snapshot ? c.snapshot.throttledCalls : '–'} |`,
    ),
  ];
  const throttleMd = [
    `<!-- written by \`npm run chaos\` (bench/chaos/run.mjs); do not edit by hand -->`,
    ``,
    `Each setup: ${WARMUP_S} s healthy, then ${OUTAGE_S} s of partial outage, measured after its first ${SETTLE_S} s`,
    `(one window), ${CLIENTS} closed-loop clients. Classic: rate trip 50% over 2 s (at least 20 calls), open 2 s,`,
    `2 probes. Throttle: \`{ k, windowMs: 2000 }\`,`,
    `failureThreshold Infinity. Served calls take ${DOWNSTREAM.okMs} ms (50% variant) or ${DOWNSTREAM.cappedMs} ms`,
    `(capacity variant: at most ${DOWNSTREAM.capacity} at a time, so at most ${(DOWNSTREAM.capacity * 1000) / DOWNSTREAM.cappedMs} served/s).`,
    ``,
    ...table,
    ``,
    `| throttle | downstream | target (issue 11) | measured | |`,
    `|---|---|---|---|---|`,
    ...checks,
    ``,
  ].join('\n');
  await writeFile(path.join(docs, 'throttle.md'), await prettier.format(throttleMd, { parser: 'markdown' }));
  console.log(`\n${chaosMd}\n${throttleMd}`);
  console.log(
    `wrote docs/chaos.svg, docs/chaos.md, docs/throttle.svg, docs/throttle.md (${fmt(elapsedMs / 1000)} s)`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
