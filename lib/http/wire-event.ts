import type { BreakerEvent, BreakerEventType } from '../core/types';

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

function truncate(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}…`;
}
