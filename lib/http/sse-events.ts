import type { MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { loadRx } from '../core/rx';
import type { BreakerEvent, BreakerEventType, ErrorSummary } from '../core/types';

/** An error as it travels over HTTP: never the object itself (it may be circular, huge or hold secrets). */
export interface WireError {
  name: string;
  message: string;
  code?: string;
}

/** A `BreakerEvent` that survives `JSON.stringify` whatever error it carries. */
export interface WireBreakerEvent {
  type: BreakerEventType;
  name: string;
  at: number;
  from?: string;
  to?: string;
  reason?: string;
  retryAfterMs?: number;
  durationMs?: number;
  error?: WireError;
}

/** Error messages are cut here: a stack or a response body pasted into a message has no place in a feed. */
const MAX_MESSAGE = 1000;

export function toWireError(error: unknown): WireError {
  if (isErrorSummary(error)) {
    // What the recent-events ring keeps (see summarizeError in core): already cut and free of the object.
    const out: WireError = { name: error.type, message: error.message };
    if (error.code !== undefined) out.code = error.code;
    return out;
  }
  if (error instanceof Error) {
    const out: WireError = { name: error.name, message: truncate(error.message) };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
    return out;
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    message = Object.prototype.toString.call(error);
  }
  return { name: typeof error, message: truncate(message) };
}

export function toWireEvent(event: BreakerEvent): WireBreakerEvent {
  const out: WireBreakerEvent = { type: event.type, name: event.name, at: event.at };
  if (event.from !== undefined) out.from = event.from;
  if (event.to !== undefined) out.to = event.to;
  if (event.reason !== undefined) out.reason = event.reason;
  if (event.retryAfterMs !== undefined) out.retryAfterMs = event.retryAfterMs;
  if (event.durationMs !== undefined) out.durationMs = event.durationMs;
  if (event.error !== undefined) out.error = toWireError(event.error);
  return out;
}

export interface EventStreamOptions {
  /** Comment lines every this many ms keep proxies from closing an idle stream. */
  heartbeatMs: number;
  /** Completes the stream (and so ends the response) when it emits: the application is closing. */
  until: Observable<unknown>;
}

/**
 * The server-sent events of one client: one `state_change` event (JSON data) per transition and a
 * comment line every `heartbeatMs`. Subscribing adds one listener to `transitions`; the client's
 * disconnect (Nest unsubscribes) or `until` removes it and stops the heartbeat timer.
 */
export function breakerEventStream(
  transitions: Observable<BreakerEvent>,
  options: EventStreamOptions,
): Observable<MessageEvent> {
  const { merge, interval, map, takeUntil } = loadRx();
  const events = transitions.pipe(
    map((event): MessageEvent => ({ type: event.type, data: JSON.stringify(toWireEvent(event)) })),
  );
  const heartbeats = interval(options.heartbeatMs).pipe(map((): MessageEvent => ({ comment: 'heartbeat' })));
  return merge(events, heartbeats).pipe(takeUntil(options.until));
}

function truncate(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}…`;
}

function isErrorSummary(value: unknown): value is ErrorSummary {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Error) &&
    typeof (value as ErrorSummary).type === 'string' &&
    typeof (value as ErrorSummary).message === 'string'
  );
}
