// The real OpenTelemetry SDK, in process: a MeterProvider read by a MetricReader subclass (collect() on
// demand, no exporter), a TracerProvider whose finished spans land in an InMemorySpanExporter, and the
// AsyncLocalStorage context manager so that active spans follow async calls as they do in an application.
import { context, trace, type Attributes, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point of a collected metric: a sum or gauge value, or a histogram's count/sum/bucket counts. */
export interface Point {
  attributes: Attributes;
  value: number;
  histogram?: { count: number; sum: number; boundaries: number[]; counts: number[] };
}

export interface OtelHarness {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  spans: InMemorySpanExporter;
  /** Collects now: metric name -> points. Fails the test on collection errors. */
  collect(): Promise<Map<string, Point[]>>;
  /** Runs `fn` with a new span active (ended when fn settles); returns fn's result and the span. */
  inSpan<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ result: T | undefined; error: unknown; span: Span }>;
  /** Span events of the finished span named `name`. */
  eventsOf(name: string): { name: string; attributes: Attributes }[];
  shutdown(): Promise<void>;
}

/** Makes the active context follow async calls in this test file (call once, in beforeAll). */
export function enableContext(): () => void {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  return () => context.disable();
}

export function createOtelHarness(): OtelHarness {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const tracer = tracerProvider.getTracer('test');
  return {
    meterProvider,
    tracerProvider,
    spans,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`collection errors: ${errors.map(String).join('; ')}`);
      const out = new Map<string, Point[]>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          const points: Point[] = metric.dataPoints.map((p) => {
            if (metric.dataPointType === DataPointType.HISTOGRAM) {
              const h = p.value as {
                count: number;
                sum?: number;
                buckets: { boundaries: number[]; counts: number[] };
              };
              return {
                attributes: p.attributes,
                value: h.count,
                histogram: { count: h.count, sum: h.sum ?? 0, ...h.buckets },
              };
            }
            return { attributes: p.attributes, value: p.value as number };
          });
          out.set(metric.descriptor.name, points);
        }
      }
      return out;
    },
    async inSpan(name, fn) {
      return tracer.startActiveSpan(name, async (span) => {
        try {
          return { result: await fn(), error: undefined, span };
        } catch (error) {
          return { result: undefined, error, span };
        } finally {
          span.end();
        }
      });
    },
    eventsOf(name) {
      const span: ReadableSpan | undefined = spans.getFinishedSpans().find((s) => s.name === name);
      if (span === undefined) throw new Error(`no finished span named "${name}"`);
      return span.events.map((e) => ({ name: e.name, attributes: e.attributes ?? {} }));
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The value of the point whose attributes include `match` (0 when there is none). */
export function valueOf(points: Point[] | undefined, match: Attributes): number {
  const found = (points ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  if (found.length > 1) throw new Error(`${found.length} points match ${JSON.stringify(match)}`);
  return found[0]?.value ?? 0;
}

/** Every point of `points` whose attributes include `match`. */
export function pointsOf(points: Point[] | undefined, match: Attributes): Point[] {
  return (points ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

export { trace };
