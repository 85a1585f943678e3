'use strict';
const path = require('node:path');
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
const { timed, expect } = require('../harness/timed');
const { ROOT } = require('../harness/subjects');

/** How many breakers the collection check reads, and how many collections its median is taken over. */
const COLLECT_BREAKERS = 1_000;
const COLLECTIONS = 25;
const COLLECT_LIMIT_MS = 20;
/** Collections discarded first: the SDK's code paths warm up over several. */
const WARM_COLLECTIONS = 10;

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

/** The built Prometheus collector next to the core being measured: the peer the collection is paired with. */
function prometheusCollector(ctx) {
  const dir = ctx.ours === undefined ? path.join(ROOT, 'dist', 'http') : path.resolve(ctx.ours, '..', 'http');
  return require(path.join(dir, 'prometheus', 'collector.js')).BreakerMetricsCollector;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Median ms of one SDK collection over COLLECT_BREAKERS breakers that have seen traffic and transitions,
 * interleaved with a Prometheus render of the same registry (scenario 7's check) as the same-run peer.
 */
async function collectCheck(ctx, log) {
  const registry = new ctx.libs.ours.BreakerRegistry({ defaults: { failureThreshold: 3 } });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = otelEntry(ctx).instrumentBreakers(registry, {
    meterProvider,
    tracerProvider: false,
  });
  const BreakerMetricsCollector = prometheusCollector(ctx);
  const prometheus = new BreakerMetricsCollector(registry).start();
  prometheus.collect(); // histogram timing on for both from the start
  const boom = new Error('down');
  for (let i = 0; i < COLLECT_BREAKERS; i++) {
    const breaker = registry.get(`service-${i}`);
    for (let k = 0; k < 20; k++) await breaker.executePromise(one);
    if (i % 10 === 0) {
      for (let k = 0; k < 3; k++)
        await breaker.executePromise(() => Promise.reject(boom)).catch(() => undefined);
    }
  }
  const otelTimes = [];
  const promTimes = [];
  const ratios = [];
  let points = 0;
  for (let i = 0; i < COLLECTIONS + WARM_COLLECTIONS; i++) {
    let start = process.hrtime.bigint();
    const { resourceMetrics, errors } = await reader.collect();
    const otelMs = Number(process.hrtime.bigint() - start) / 1e6;
    expect(errors.length === 0, `collection errors: ${errors.join('; ')}`);
    start = process.hrtime.bigint();
    prometheus.render();
    const promMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (i < WARM_COLLECTIONS) continue; // the first ones warm the code up
    otelTimes.push(otelMs);
    promTimes.push(promMs);
    ratios.push(otelMs / promMs);
    points = resourceMetrics.scopeMetrics.reduce(
      (a, s) => a + s.metrics.reduce((b, m) => b + m.dataPoints.length, 0),
      0,
    );
  }
  instrumentation.dispose();
  prometheus.dispose();
  await meterProvider.shutdown();
  const otelMedian = median(otelTimes);
  const promMedian = median(promTimes);
  log(
    `  otel: collection of ${COLLECT_BREAKERS} breakers: median ${otelMedian.toFixed(2)} ms (${points} points); ` +
      `Prometheus render of the same registry ${promMedian.toFixed(2)} ms; paired ratio ${median(ratios).toFixed(2)}×`,
  );
  return [
    {
      label: `OpenTelemetry collection, ${COLLECT_BREAKERS.toLocaleString('en-US')} breakers (median of ${COLLECTIONS})`,
      value: `${otelMedian.toFixed(2)} ms (${points} data points, max ${Math.max(...otelTimes).toFixed(2)} ms)`,
      limit: `≤ ${COLLECT_LIMIT_MS} ms`,
      pass: otelMedian <= COLLECT_LIMIT_MS,
    },
    {
      label: '… paired with a Prometheus render of the same registry (same run)',
      value: `${median(ratios).toFixed(2)}× (render ${promMedian.toFixed(2)} ms)`,
      limit: '(reported)',
      pass: true,
    },
  ];
}

module.exports = {
  id: 'otel',
  order: 10,
  title: '10. OpenTelemetry: what instrumentBreakers costs per call; collection time',
  unit: 'ns/call',
  cases: [
    perCallCase('off', 'registry breaker, OpenTelemetry off', false),
    perCallCase('on', 'instrumented with the defaults (counters, gauge, span events)', {}),
    perCallCase('histogram', 'instrumented with callDuration: true (… and the call.duration histogram)', {
      callDuration: true,
    }),
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
      '… the same breaker instrumented with callDuration: true',
      { callDuration: true },
      { slowCallDurationMs: 1_000 },
    ),
  ],
  targets: [{ label: 'OpenTelemetry on (defaults) ≤ 1.15× off', of: 'on', vs: 'off', max: 1.15 }],
  checks: collectCheck,
  notes: [
    'Each call is `await breaker.executePromise(fn)` on a registry breaker; the SDK is @opentelemetry/sdk-metrics with a reader that collects on demand.',
    'Counters and the state gauge are read from the breakers’ snapshots at collection time: a call pays nothing for them.',
    'The duration histogram is the one per-call cost: two clock reads and one SDK `Histogram.record()` per call. It is opt-in (`callDuration: true`), reported here for its price.',
  ],
};
