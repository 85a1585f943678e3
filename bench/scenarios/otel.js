'use strict';
const path = require('node:path');
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
const { timed, expect } = require('../harness/timed');
const { ROOT } = require('../harness/subjects');

/** How many breakers the collection check reads, and how many collections its median is taken over. */
const COLLECT_BREAKERS = 1_000;
const COLLECTIONS = 25;
const COLLECT_LIMIT_MS = 20;

const one = async () => 1;

/** A reader that collects only when asked (no exporter, no timer): what a periodic exporter calls. */
class OnDemandReader extends MetricReader {
  onForceFlush() {
    return Promise.resolve();
  }
  onShutdown() {
    return Promise.resolve();
  }
}

/** The built `nestjs-breaker/otel` next to the core being measured (dist/, or next to --ours). */
function otelEntry(ctx) {
  const dir =
    ctx.ours === undefined
      ? path.join(ROOT, 'dist', 'integrations', 'otel')
      : path.resolve(ctx.ours, '..', 'integrations', 'otel');
  return require(dir);
}

/** A registry breaker, instrumented with the real SDK or not (`otel`: false | options). */
function perCallCase(id, label, otel, breakerOptions = {}) {
  return {
    id,
    lib: 'ours',
    label,
    measure: timed((ctx) => {
      const registry = new ctx.libs.ours.BreakerRegistry({ breakers: { payment: breakerOptions } });
      const meterProvider = new MeterProvider({ readers: [new OnDemandReader()] });
      const instrumentation =
        otel === false
          ? undefined
          : otelEntry(ctx).instrumentBreakers(registry, { meterProvider, tracerProvider: false, ...otel });
      const breaker = registry.get('payment');
      let sum = 0;
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) sum += await breaker.executePromise(one);
        },
        check: (n) => {
          expect(sum === n && breaker.state === 'closed', `${id} summed ${sum}/${n} in ${breaker.state}`);
          expect(breaker.snapshot().successfulCalls === n, `${id} did not record every success`);
        },
        close: () => {
          instrumentation?.dispose();
          void meterProvider.shutdown();
        },
      };
    }),
  };
}

/** Median ms of one SDK collection over COLLECT_BREAKERS breakers that have seen traffic and transitions. */
async function collectCheck(ctx, log) {
  const registry = new ctx.libs.ours.BreakerRegistry({ defaults: { failureThreshold: 3 } });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = otelEntry(ctx).instrumentBreakers(registry, {
    meterProvider,
    tracerProvider: false,
  });
  const boom = new Error('down');
  for (let i = 0; i < COLLECT_BREAKERS; i++) {
    const breaker = registry.get(`service-${i}`);
    for (let k = 0; k < 20; k++) await breaker.executePromise(one);
    if (i % 10 === 0) {
      for (let k = 0; k < 3; k++)
        await breaker.executePromise(() => Promise.reject(boom)).catch(() => undefined);
    }
  }
  const times = [];
  let points = 0;
  for (let i = 0; i < COLLECTIONS + 3; i++) {
    const start = process.hrtime.bigint();
    const { resourceMetrics, errors } = await reader.collect();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    expect(errors.length === 0, `collection errors: ${errors.join('; ')}`);
    if (i >= 3) times.push(ms); // the first collections warm the code up
    points = resourceMetrics.scopeMetrics.reduce(
      (a, s) => a + s.metrics.reduce((b, m) => b + m.dataPoints.length, 0),
      0,
    );
  }
  instrumentation.dispose();
  await meterProvider.shutdown();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  log(
    `  otel: collection of ${COLLECT_BREAKERS} breakers: median ${median.toFixed(2)} ms (${points} points)`,
  );
  return [
    {
      label: `OpenTelemetry collection, ${COLLECT_BREAKERS.toLocaleString('en-US')} breakers (median of ${COLLECTIONS})`,
      value: `${median.toFixed(2)} ms (${points} data points, max ${times[times.length - 1].toFixed(2)} ms)`,
      limit: `≤ ${COLLECT_LIMIT_MS} ms`,
      pass: median <= COLLECT_LIMIT_MS,
    },
  ];
}

module.exports = {
  id: 'otel',
  order: 8,
  title: '8. OpenTelemetry: what instrumentBreakers costs per call; collection time',
  unit: 'ns/call',
  cases: [
    perCallCase('off', 'registry breaker, OpenTelemetry off', false),
    perCallCase('counters', 'instrumented, callDuration: false (counters, gauge, span events)', {
      callDuration: false,
    }),
    perCallCase('on', 'instrumented, defaults (… and the call.duration histogram)', {}),
    perCallCase(
      'timed-off',
      'breaker that times calls anyway (slowCallDurationMs), OpenTelemetry off',
      false,
      {
        slowCallDurationMs: 1_000,
      },
    ),
    perCallCase(
      'timed-on',
      '… the same breaker instrumented with defaults',
      {},
      { slowCallDurationMs: 1_000 },
    ),
  ],
  targets: [
    { label: 'OpenTelemetry on (callDuration: false) ≤ 1.15× off', of: 'counters', vs: 'off', max: 1.15 },
    { label: 'OpenTelemetry on (defaults) ≤ 1.15× off', of: 'on', vs: 'off', max: 1.15 },
  ],
  checks: collectCheck,
  notes: [
    'Each call is `await breaker.executePromise(fn)` on a registry breaker; the SDK is @opentelemetry/sdk-metrics with a reader that collects on demand.',
    'Counters and the state gauge are read from the breakers’ snapshots at collection time: a call pays nothing for them.',
    'The duration histogram is the one per-call cost: two clock reads and one SDK `Histogram.record()` per call. `callDuration: false` removes it.',
  ],
};
