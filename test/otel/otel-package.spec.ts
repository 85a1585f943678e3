// The BUILT `nestjs-breaker/otel` entry point, installed into a throw-away consumer with the real SDK:
// CommonJS and ESM load one instance, and the core alone (no Nest, no rxjs) is instrumented.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
let consumer: string;

beforeAll(() => {
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-breaker-otel-'));
  const pkg = path.join(consumer, 'node_modules', 'nestjs-breaker');
  fs.mkdirSync(pkg, { recursive: true });
  // Under the build lock shared with the package spec: never copy a dist/ that a build is rewriting.
  const script = [
    'set -e',
    'if [ ! -f dist/integrations/otel/index.js ] || [ ! -f dist/esm/otel.mjs ]; then npm run build >&2; fi',
    `cp package.json "${pkg}/"`,
    `cp -R dist "${pkg}/dist"`,
  ].join('\n');
  execFileSync('flock', ['/tmp/build.lock', 'sh', '-c', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // The OpenTelemetry packages only: the core entry needs no other peer.
  fs.symlinkSync(
    path.join(ROOT, 'node_modules', '@opentelemetry'),
    path.join(consumer, 'node_modules', '@opentelemetry'),
    'dir',
  );
  fs.writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'otel-consumer', private: true }),
  );
}, 180_000);

afterAll(() => {
  if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
});

function runNode(file: string, source: string): unknown {
  fs.writeFileSync(path.join(consumer, file), source);
  return JSON.parse(
    execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8', timeout: 20_000 }),
  );
}

const COLLECT = `
  class Reader extends MetricReader { onForceFlush() { return Promise.resolve(); } onShutdown() { return Promise.resolve(); } }
  const reader = new Reader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const registry = new core.BreakerRegistry({ breakers: { payment: { failureThreshold: 1 } } });
  const instrumentation = otel.instrumentBreakers(registry, { meterProvider, tracerProvider: false });
  await registry.get('payment').executePromise(() => Promise.reject(new TypeError('down'))).catch(() => undefined);
  const { resourceMetrics } = await reader.collect();
  const metrics = resourceMetrics.scopeMetrics[0].metrics;
  const calls = metrics.find((m) => m.descriptor.name === 'circuit_breaker.calls').dataPoints.map((p) => p.attributes);
  instrumentation.dispose();
  await meterProvider.shutdown();
`;

describe("the built 'nestjs-breaker/otel'", () => {
  it('instruments the core from a CommonJS consumer with only @opentelemetry installed', () => {
    expect(fs.readdirSync(path.join(consumer, 'node_modules')).sort()).toEqual([
      '@opentelemetry',
      'nestjs-breaker',
    ]);
    const result = runNode(
      'consumer.cjs',
      `const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
      const core = require('nestjs-breaker/core');
      const otel = require('nestjs-breaker/otel');
      (async () => {
        ${COLLECT}
        console.log(JSON.stringify({ scope: resourceMetrics.scopeMetrics[0].scope.name, calls }));
      })().catch((error) => { console.error(error); process.exit(1); });`,
    );
    expect(result).toEqual({
      scope: 'nestjs-breaker',
      calls: [
        {
          'circuit_breaker.name': 'payment',
          'circuit_breaker.outcome': 'failure',
          'error.type': 'TypeError',
        },
      ],
    });
  });

  it('loads from ESM as the same instance as require()', () => {
    const result = runNode(
      'consumer.mjs',
      `import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
      import * as core from 'nestjs-breaker/core';
      import * as otel from 'nestjs-breaker/otel';
      import { createRequire } from 'node:module';
      const required = createRequire(import.meta.url)('nestjs-breaker/otel');
      ${COLLECT}
      console.log(JSON.stringify({ same: otel.instrumentBreakers === required.instrumentBreakers, calls: calls.length }));`,
    );
    expect(result).toEqual({ same: true, calls: 1 });
  });
});
