import { trace, type Attributes, type Span, type TracerProvider } from '@opentelemetry/api';
import type { Breaker } from '../../core/breaker';
import { CircuitOpenError } from '../../core/errors';
import type { BreakerEvent } from '../../core/types';
import { ATTR } from './breaker-attributes';
import { errorType } from './error-type';

/**
 * The names of the span events the instrumentation adds (each with `circuit_breaker.name`,
 * `circuit_breaker.state` and `circuit_breaker.reason`).
 *
 * @example
 * const rejections = span.events.filter((e) => e.name === SPAN_EVENT.rejected);
 */
export const SPAN_EVENT = {
  rejected: 'circuit_breaker.rejected',
  fallback: 'circuit_breaker.fallback',
  stateChange: 'circuit_breaker.state_change',
} as const;

/**
 * The tracer of the short span a state change gets when no span is active. Event times are the SDK's own
 * (events are delivered as they happen): the breaker's clock may be a test's or a monotonic one.
 */
const TRACER_NAME = 'nestjs-breaker';

/**
 * Turns a breaker's rejections, fallbacks and state changes into events on the active span: the caller's,
 * since breakers deliver these events synchronously from the call that caused them. No span is created
 * per call. A state change made outside any span (a `forceOpen()` from a script, a job without tracing)
 * gets a one-event span of its own from `tracerProvider`, so that a trip is never invisible.
 */
export class BreakerSpanEvents {
  constructor(private readonly tracerProvider: TracerProvider | undefined) {}

  record(breaker: Breaker, event: BreakerEvent): void {
    if (event.type === 'state_change') {
      this.stateChange(breaker, event);
      return;
    }
    if (event.type !== 'rejected' && event.type !== 'fallback') return;
    const span = trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) return;
    const attributes = this.identity(breaker, event);
    attributes[ATTR.state] = breaker.state;
    attributes[ATTR.reason] = event.type === 'rejected' ? rejectionReason(event.error) : causeOf(event.error);
    span.addEvent(event.type === 'rejected' ? SPAN_EVENT.rejected : SPAN_EVENT.fallback, attributes);
  }

  private stateChange(breaker: Breaker, event: BreakerEvent): void {
    const attributes = this.identity(breaker, event);
    attributes[ATTR.state] = event.to;
    attributes[ATTR.from] = event.from;
    attributes[ATTR.to] = event.to;
    if (event.reason !== undefined) attributes[ATTR.reason] = event.reason;
    const active = trace.getActiveSpan();
    if (active !== undefined && active.isRecording()) {
      active.addEvent(SPAN_EVENT.stateChange, attributes);
      return;
    }
    const provider = this.tracerProvider ?? trace.getTracerProvider();
    const span: Span = provider.getTracer(TRACER_NAME).startSpan(SPAN_EVENT.stateChange, {
      attributes: { [ATTR.name]: breaker.name },
    });
    span.addEvent(SPAN_EVENT.stateChange, attributes);
    span.end();
  }

  /** The breaker's name, and its key when the event comes from one key of a keyed family. */
  private identity(breaker: Breaker, event: BreakerEvent): Attributes {
    const attributes: Attributes = { [ATTR.name]: breaker.name };
    const key = (event as { key?: unknown }).key;
    if (typeof key === 'string') attributes[ATTR.key] = key;
    return attributes;
  }
}

/** Why a call was refused: `open` (or the error's own reason, e.g. `throttled`), else the error's type. */
function rejectionReason(error: unknown): string {
  if (error instanceof CircuitOpenError) {
    const reason = (error as { reason?: unknown }).reason;
    return typeof reason === 'string' ? reason : 'open';
  }
  return errorType(error);
}

/** What made a fallback answer: a rejection's reason, else the failure's `error.type`. */
function causeOf(error: unknown): string {
  return error instanceof CircuitOpenError ? rejectionReason(error) : errorType(error);
}
