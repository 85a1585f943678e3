// Entry point `nestjs-breaker/otel` (optional peer @opentelemetry/api).
export {
  instrumentBreakers,
  INSTRUMENTATION_SCOPE,
  DEFAULT_CALL_DURATION_BUCKETS,
  type BreakerInstrumentation,
  type BreakerInstrumentationOptions,
} from './instrument-breakers';
export { SPAN_EVENT } from './breaker-span-events';
