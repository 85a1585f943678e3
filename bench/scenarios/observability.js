'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { NEVER, interval, share } = require('rxjs');
const { timed, expect } = require('../harness/timed');
const { ROOT } = require('../harness/subjects');
const { dashboardLatencyCheck } = require('../harness/dashboard-latency');

/** How many breakers the scrape check renders, and how many scrapes its median is taken over. */
const SCRAPE_BREAKERS = 1_000;
const SCRAPES = 25;
const SCRAPE_LIMIT_MS = 50;

const one = async () => 1;

/**
 * The built lib/http next to the core being measured (dist/http, or next to --ours). `files` lists the
 * module's path in this layout first, then its path in older builds (lib/http was reorganised), so that a
 * build from before the move can still be measured.
 */
function http(ctx, ...files) {
  const dir = ctx.ours === undefined ? path.join(ROOT, 'dist', 'http') : path.resolve(ctx.ours, '..', 'http');
  const found = files.map((file) => path.join(dir, file)).find((file) => fs.existsSync(file));
  if (found === undefined) throw new Error(`none of ${files.join(', ')} in ${dir}`);
  return require(found);
}

/**
 * A registry as CircuitBreakerModule runs it: the metrics collector attached (duration histogram on every
 * breaker), optionally with what one dashboard client adds (the SSE stream's stateChanges$ subscription).
 */
function moduleLikeRegistry(ctx, { collector, dashboard, everyEvent }) {
  const registry = new ctx.libs.ours.BreakerRegistry({ breakers: { payment: {} } });
  const { BreakerMetricsCollector } = http(ctx, 'prometheus/collector.js', 'prometheus-collector.js');
  const { breakerEventStream } = http(ctx, 'event-stream.js', 'sse-events.js');
  const metrics = collector ? new BreakerMetricsCollector(registry).start() : undefined;
  // A scrape switches call timing on for the histogram (until then the collector costs nothing per call).
  if (collector === 'scraped') metrics.collect();
  const received = [];
  const subscription = dashboard
    ? breakerEventStream(registry.stateChanges$, {
        heartbeats: interval(15_000).pipe(share()),
        heartbeatMs: 15_000, // what builds from before the shared heartbeat read instead of `heartbeats`
        until: NEVER,
        exposeErrorMessages: false,
      }).subscribe((m) => received.push(m))
    : everyEvent
      ? registry.events$.subscribe((e) => received.push(e.type))
      : undefined;
  return {
    breaker: registry.get('payment'),
    received,
    close: () => {
      subscription?.unsubscribe();
      metrics?.dispose();
    },
  };
}

function perCallCase(id, label, options) {
  return {
    id,
    lib: 'ours',
    label,
    measure: timed((ctx) => {
      const { breaker, received, close } = moduleLikeRegistry(ctx, options);
      let sum = 0;
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
        },
        check: (n) => {
          expect(sum === n && breaker.state === 'closed', `${id} summed ${sum}/${n} in ${breaker.state}`);
          expect(breaker.snapshot().successfulCalls === n, `${id} did not record every success`);
          if (options.everyEvent) expect(received.length === n, `${id} saw ${received.length}/${n} events`);
          else
            expect(
              received.every((m) => m.comment !== undefined),
              `${id} got an event without a transition`,
            );
        },
        close,
      };
    }),
  };
}

/** Median ms to render /metrics for SCRAPE_BREAKERS breakers that have seen traffic and transitions. */
async function scrapeCheck(ctx, log) {
  const { BreakerMetricsCollector } = http(ctx, 'prometheus/collector.js', 'prometheus-collector.js');
  const registry = new ctx.libs.ours.BreakerRegistry({ defaults: { failureThreshold: 3 } });
  const collector = new BreakerMetricsCollector(registry).start();
  const boom = new Error('down');
  for (let i = 0; i < SCRAPE_BREAKERS; i++) {
    const breaker = registry.get(`service-${i}`);
    for (let k = 0; k < 20; k++) await breaker.executePromise(one);
    if (i % 10 === 0) {
      for (let k = 0; k < 3; k++)
        await breaker.executePromise(() => Promise.reject(boom)).catch(() => undefined);
    }
  }
  const times = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES + 3; i++) {
    const start = process.hrtime.bigint();
    const text = collector.render();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= 3) times.push(ms); // the first renders warm the code up
    bytes = text.length;
  }
  collector.dispose();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  log(
    `  observability: /metrics for ${SCRAPE_BREAKERS} breakers: median ${median.toFixed(2)} ms (${bytes} bytes)`,
  );
  return [
    {
      label: `render /metrics, ${SCRAPE_BREAKERS.toLocaleString('en-US')} breakers (median of ${SCRAPES})`,
      value: `${median.toFixed(2)} ms (${(bytes / 1024).toFixed(0)} KiB, max ${times[times.length - 1].toFixed(2)} ms)`,
      limit: `≤ ${SCRAPE_LIMIT_MS} ms`,
      pass: median <= SCRAPE_LIMIT_MS,
    },
  ];
}

module.exports = {
  id: 'observability',
  order: 7,
  title: '7. Observability: what metrics and a connected dashboard cost per call; /metrics render time',
  unit: 'ns/call',
  cases: [
    perCallCase('bare', 'registry breaker, nothing attached', { collector: false }),
    perCallCase('metrics-idle', 'with the metrics collector, never scraped', { collector: 'idle' }),
    perCallCase('metrics', 'with the metrics collector, scraped (duration histogram timing)', {
      collector: 'scraped',
    }),
    perCallCase('dashboard', '… and one dashboard client (SSE stream on stateChanges$)', {
      collector: 'scraped',
      dashboard: true,
    }),
    perCallCase('every-event', '… and an events$ subscriber instead (every call emits)', {
      collector: 'scraped',
      everyEvent: true,
    }),
  ],
  targets: [{ label: 'a connected dashboard adds ≤ 10% per call', of: 'dashboard', vs: 'metrics', max: 1.1 }],
  checks: async (ctx, log) => [...(await scrapeCheck(ctx, log)), ...(await dashboardLatencyCheck(ctx, log))],
  notes: [
    'Each call is `await breaker.executePromise(fn)` on a registry breaker, set up as CircuitBreakerModule runs it.',
    'The histogram needs each call’s duration: two clock reads per call (see the `Date.now()` row of scenario 1), from the first scrape on. `metrics: { buckets: false }` removes them.',
    'A dashboard client listens to state changes only: a call that changes no state sends it nothing.',
  ],
};
