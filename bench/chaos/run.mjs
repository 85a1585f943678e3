#!/usr/bin/env node
// `npm run chaos`: does an outage downstream cascade? Starts real downstreams (bench/chaos/downstream.js,
// one per route) and a Nest app in front of them (bench/chaos/chaos-app.ts, in a child process), then
// drives the app with closed-loop clients through phases — healthy, downstream hangs, fails fast, answers
// slowly, half the calls fail, healed — with the breaker on and off, side by side. Then the partial-outage
// comparison of the adaptive throttle (issue 11): no breaker, classic breaker, throttle k = 2 and k = 1.5,
// side by side, against a downstream failing half its calls and one serving at most N calls at a time.
// Writes docs/chaos.svg, docs/chaos.md, docs/throttle.svg and docs/throttle.md (vega-lite + vega).
// Options: --phase-seconds N (chaos run, default 8), --outage-seconds N (comparison, default 12),
// --clients N (per run, default 16; split between the lanes). Traffic stays on 127.0.0.1; every loop
// ends with its phase.
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

const PHASE_S = option('phase-seconds', 8, 2, 60);
const OUTAGE_S = option('outage-seconds', 12, 4, 60);
/** The comparison measures the outage once the setups have settled: after its first 2 s (one window). */
const SETTLE_S = 2;
const CLIENTS = option('clients', 16, 2, 256);
const BUCKET_MS = 500;
const DOWNSTREAM = { okMs: 10, slowMs: 2_500, capacity: 2, cappedMs: 200 };

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
  ['no breaker', 'none'],
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

/** Starts the Nest app in a child process (`urls`: each setup's downstream) and resolves with its URL. */
function startApp(urls) {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'bench/chaos/chaos-app.ts'],
    {
      cwd: root,
      env: { ...process.env, CHAOS_DOWNSTREAMS: JSON.stringify(urls), TS_NODE_PROJECT: 'tsconfig.json' },
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
 * Drives `lanes` ({ setup, label, downstream, clients }) at the same time through `phases` ([label,
 * mode, seconds]): each lane has its own closed-loop clients and its own downstream (all switched
 * together), so setups compared in one drive share the machine's conditions. Samples each downstream's
 * counters every BUCKET_MS and at every phase boundary; prints a line per lane and phase.
 */
async function drive(app, lanes, phases) {
  for (const lane of lanes) {
    if (lane.setup !== 'off' && lane.setup !== 'none')
      await post(`${app}/circuit-breakers/${lane.setup}/reset`);
    lane.downstream.setMode(phases[0][1]);
    lane.downstream.take();
    lane.recording = new Recording();
    lane.ticks = [];
    lane.bounds = [];
  }
  const origin = performance.now();
  const sample = (t) => {
    for (const lane of lanes) lane.ticks.push({ t, ...lane.downstream.take() });
  };
  let stop = false;
  const sampler = setInterval(() => sample(performance.now() - origin), BUCKET_MS);
  const clients = Promise.all(
    lanes.map((lane) =>
      runClients({
        url: `${app}/call/${lane.setup}`,
        clients: lane.clients,
        origin,
        recording: lane.recording,
        shouldStop: () => stop,
      }),
    ),
  );
  try {
    for (const [name, mode, seconds] of phases) {
      const start = performance.now() - origin;
      sample(start); // the downstream counts then split exactly between phases
      for (const lane of lanes) lane.downstream.setMode(mode);
      await sleep(seconds * 1_000);
      const end = performance.now() - origin;
      for (const lane of lanes) {
        lane.bounds.push({ name, mode, start, end });
        const s = phaseStats(lane.recording, lane.ticks, start, end);
        console.log(
          `  [${lane.label}] ${name.padEnd(12)} ${fmt(s.rps).padStart(6)} req/s  ok ${fmt(s.okRps).padStart(6)}/s` +
            `  p50 ${fmt(s.p50, 1).padStart(7)} ms  p99 ${fmt(s.p99, 1).padStart(7)} ms` +
            `  downstream ${fmt(s.downstreamRps).padStart(5)} calls/s (${fmt(s.servedRps)} served)`,
        );
      }
    }
  } finally {
    stop = true;
    for (const lane of lanes) lane.downstream.setMode('ok'); // releases hung requests: every loop ends
    await clients;
    clearInterval(sampler);
  }
  sample(performance.now() - origin);
  return lanes;
}

async function main() {
  const began = Date.now();
  // One downstream per setup (each with its own capacity and counts).
  const own = {};
  for (const [, setup] of [...RUNS, ...COMPARED]) own[setup] = await startDownstream(DOWNSTREAM);
  const downstreams = Object.values(own);
  const urls = {};
  for (const [setup, d] of Object.entries(own)) urls[setup] = d.url;
  console.log(`chaos: ${downstreams.length} downstreams on 127.0.0.1; starting the Nest app (ts-node)...`);
  const { child, url: app } = await startApp(urls);
  try {
    console.log(`chaos: app on ${app}; ${CLIENTS} closed-loop clients, phases of ${PHASE_S} s`);
    // Warm-up, not recorded: every route through the JIT first, so the first phase is not a cold start.
    await drive(
      app,
      [...RUNS, ...COMPARED].map(([, setup]) => ({
        setup,
        label: `warm-up ${setup}`,
        downstream: own[setup],
        clients: 2,
      })),
      [['healthy', 'ok', WARMUP_S * 2]],
    );

    // ---- the chaos run: breakers on and off side by side, each route with its own downstream and clients
    console.log(`chaos run, breakers on and off side by side:`);
    const runs = await drive(
      app,
      RUNS.map(([label, setup]) => ({ setup, label, downstream: own[setup], clients: CLIENTS / 2 })),
      PHASES.map(([name, mode]) => [name, mode, PHASE_S]),
    );

    // ---- the partial-outage comparison (issue 11): the four setups at once, each with its own downstream
    const compared = [];
    for (const [variantLabel, variant] of VARIANTS) {
      console.log(`partial outage (${variantLabel}), the ${COMPARED.length} setups side by side:`);
      const lanes = await drive(
        app,
        COMPARED.map(([label, setup]) => ({
          setup,
          label,
          downstream: own[setup],
          clients: CLIENTS / 2,
        })),
        [
          ['healthy', 'ok', WARMUP_S],
          ['settling', variant, SETTLE_S],
          ['outage', variant, OUTAGE_S - SETTLE_S],
        ],
      );
      for (const lane of lanes) {
        const outage = lane.bounds[2];
        const snapshot =
          lane.setup === 'none'
            ? undefined
            : await (await fetch(`${app}/circuit-breakers/${lane.setup}`)).json();
        compared.push({
          variant,
          variantLabel,
          setup: lane.setup,
          label: lane.label,
          stats: phaseStats(lane.recording, lane.ticks, outage.start, outage.end),
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
    await Promise.all(downstreams.map((d) => d.close()));
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
