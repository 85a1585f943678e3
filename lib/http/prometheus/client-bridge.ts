import type { PromRegistryLike } from '../../nest/interfaces/circuit-breaker-observability-options.interface';
import type { BreakerMetricsCollector } from './collector';
import type { MetricFamily, MetricSample, MetricType } from './format';

export type { PromRegistryLike };

/** What prom-client's registry reads from a registered metric. */
export interface PromMetricLike {
  name: string;
  help: string;
  type: MetricType;
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: MetricType; aggregator: 'sum'; values: MetricSample[] }>;
  reset(): void;
}

/**
 * prom-client's default registry, or undefined when prom-client is not installed. Required here, at
 * bootstrap, never when the package is imported: prom-client is an optional peer.
 */
export function defaultPromRegistry(): PromRegistryLike | undefined {
  let promClient: { register: PromRegistryLike };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on first use
    promClient = require('prom-client') as { register: PromRegistryLike };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  return promClient.register;
}

/**
 * Registers the collector's families in a prom-client registry, so they appear on the application's own
 * `/metrics`. Each family is a prom-client custom metric whose `get()` reads the breakers when scraped.
 * Returns a function that removes them again (app shutdown).
 */
export function registerWithPromClient(
  collector: BreakerMetricsCollector,
  registry: PromRegistryLike,
): () => void {
  // prom-client asks every metric for its values in one synchronous pass: the first ask reads all
  // breakers once and the others reuse that reading until the pass is over.
  let reading: Map<string, MetricFamily> | undefined;
  const read = (): Map<string, MetricFamily> => {
    if (reading === undefined) {
      reading = new Map(collector.collect().map((f) => [f.name, f]));
      queueMicrotask(() => (reading = undefined));
    }
    return reading;
  };
  const metrics = collector.describe().map((family): PromMetricLike => {
    const { name: familyName, help, type } = family;
    const metric: PromMetricLike = {
      name: familyName,
      help,
      type,
      aggregator: 'sum',
      // `metric.name`, not `familyName`: an OpenMetrics registry renames counters in place.
      get: () =>
        Promise.resolve({
          name: metric.name,
          help,
          type,
          aggregator: 'sum',
          values: read().get(familyName)?.values ?? [],
        }),
      // Breaker counters are owned by the breakers; prom-client's resetMetrics() cannot rewind them.
      reset: () => undefined,
    };
    return metric;
  });
  const registered: [string, PromMetricLike][] = [];
  try {
    for (const metric of metrics) {
      if (registry.getSingleMetric(metric.name) !== undefined) {
        throw new Error(
          `nestjs-breaker: the prom-client registry already has a metric named "${metric.name}"; ` +
            'pass another metrics.prefix or metrics.promRegistry to CircuitBreakerModule.forRoot(), or metrics.promRegistry: false',
        );
      }
      (registry.registerMetric as (metric: PromMetricLike) => void).call(registry, metric);
      registered.push([metric.name, metric]);
    }
  } catch (error) {
    unregister(registry, registered);
    throw error;
  }
  return () => unregister(registry, registered);
}

/** Removes metrics by the names they were registered under (an OpenMetrics registry renames counters). */
function unregister(registry: PromRegistryLike, metrics: readonly [string, PromMetricLike][]): void {
  for (const [name, metric] of metrics) {
    // Only our own object: someone may have registered another metric under the name since.
    if (registry.getSingleMetric(name) === metric) registry.removeSingleMetric(name);
  }
}
