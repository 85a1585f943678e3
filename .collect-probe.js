const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
const core = require('./dist/core');
const { instrumentBreakers } = require('./dist/integrations/otel');
class R extends MetricReader { onForceFlush(){return Promise.resolve()} onShutdown(){return Promise.resolve()} }
(async () => {
  const reader = new R({ cardinalitySelector: () => 100000 });
  const mp = new MeterProvider({ readers: [reader] });
  const registry = new core.BreakerRegistry({ defaults: { failureThreshold: 3 } });
  const inst = instrumentBreakers(registry, { meterProvider: mp, tracerProvider: false });
  for (let i = 0; i < 1000; i++) { const b = registry.get('s' + i); for (let k = 0; k < 20; k++) await b.executePromise(async () => 1);
    if (i % 10 === 0) for (let k = 0; k < 3; k++) await b.executePromise(() => Promise.reject(new Error('x'))).catch(() => 0); }
  for (let j = 0; j < 10; j++) {
    const s = process.hrtime.bigint();
    const { resourceMetrics } = await reader.collect();
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    const per = resourceMetrics.scopeMetrics[0].metrics.map(m => m.descriptor.name + ':' + m.dataPoints.length).join(' ');
    console.log(ms.toFixed(1), 'ms', per);
  }
  let s = process.hrtime.bigint(); for (let j=0;j<20;j++) registry.metrics(); console.log('metrics()', Number(process.hrtime.bigint()-s)/20e6, 'ms');
})();
