// The chaos run's outputs: figures (vega-lite, see figures.mjs) and markdown tables under docs/.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import { renderChaosFigure, renderThrottleFigure } from './figures.mjs';
import { fmt, phaseStats, recoveryMs, seriesOf } from './stats.mjs';

/**
 * Writes docs/chaos.svg, docs/chaos.md, docs/throttle.svg and docs/throttle.md from the recordings, and
 * prints the two tables. `settings`: what the run used (for the notes under the tables).
 */
export async function writeReports(runs, compared, elapsedMs, settings) {
  const {
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
  } = settings;
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
    `Both runs side by side in one app (so they share the machine's conditions), each route with its own`,
    `downstream and ${CLIENTS / 2} closed-loop clients; phases of ${PHASE_S} s, downstream healthy latency ${DOWNSTREAM.okMs} ms,`,
    `slow phase ${DOWNSTREAM.slowMs} ms. Breaker (\`on\`): 5 consecutive failures or 50% of the last 5 s`,
    `(at least 20 calls) open it for 2 s; calls time out after 1 s. \`off\`: the same call, unprotected.`,
    `Run took ${fmt(elapsedMs / 1000)} s on ${os.cpus().length} cores (load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} at the end: the figures include whatever else the machine was doing).`,
    ``,
    ...lines,
    ``,
    `Time to recover after healing (from the heal until 95% of answers over the next second are OK): ${recovery.join('; ')}.`,
    ``,
    `An answer counts in the phase it ends in: a request held by the hung downstream for a whole phase ends`,
    `(cut off) early in the next one, and a 2.5 s answer started late in the slow phase ends in the next.`,
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
    const none = find('capped', 'none');
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
    `The four setups run side by side (same app, same moment), each with its own downstream and ${CLIENTS / 2} closed-loop`,
    `clients: ${WARMUP_S} s healthy, then ${OUTAGE_S} s of partial outage, measured after its first ${SETTLE_S} s (one window).`,
    `Classic: rate trip 50% over 2 s (at least 20 calls), open 2 s,`,
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
