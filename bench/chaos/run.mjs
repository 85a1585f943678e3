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
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReports } from './report.mjs';
import { fmt, phaseStats } from './stats.mjs';

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

    await writeReports(runs, compared, Date.now() - began, {
      root,
      clients: CLIENTS,
      phaseSeconds: PHASE_S,
      outageSeconds: OUTAGE_S,
      settleSeconds: SETTLE_S,
      warmupSeconds: WARMUP_S,
      bucketMs: BUCKET_MS,
      downstream: DOWNSTREAM,
      phases: PHASES,
      variants: VARIANTS,
    });
  } finally {
    child.stdin.end(); // the app stops when its stdin closes
    child.kill('SIGTERM');
    await downstream.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
