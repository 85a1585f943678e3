import type { BreakerEvent, BreakerEventType } from '../core/types';

/**
 * An error as it travels over HTTP: never the object itself (it may be circular, huge or hold secrets).
 * `message` is present only when the module's `http.exposeErrorMessages` is true: messages routinely hold
 * internal hostnames, ports, SQL fragments or user data (`connect ECONNREFUSED 10.0.3.4:5432`).
 */
export interface WireError {
  /** The error's name (`TypeError`, `AxiosError`), or `typeof` of a thrown non-error. */
  type: string;
  code?: string;
  status?: number;
  message?: string;
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
/** Type names and codes are identifiers: anything longer is not one. */
const MAX_IDENTIFIER = 100;

/**
 * What leaves the process of an error: its type, code and HTTP status, and its message only when
 * `exposeMessage` is true. Takes a thrown value, or the `{ type, message, code?, status? }` summary a
 * breaker retains in its recent events.
 */
export function toWireError(error: unknown, exposeMessage: boolean): WireError {
  let type: string;
  let message: () => string;
  if (error instanceof Error) {
    type = error.name;
    message = () => error.message;
  } else if (isSummary(error)) {
    type = error.type;
    message = () => error.message;
  } else {
    type = typeof error;
    message = () => stringify(error);
  }
  const out: WireError = { type: cut(String(type), MAX_IDENTIFIER) };
  const code = read(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') out.code = cut(String(code), MAX_IDENTIFIER);
  const status = read(error, 'status') ?? read(read(error, 'response'), 'status');
  if (typeof status === 'number' && Number.isInteger(status)) out.status = status;
  if (exposeMessage) out.message = cut(message(), MAX_MESSAGE);
  return out;
}

export function toWireEvent(event: BreakerEvent, exposeErrorMessages: boolean): WireBreakerEvent {
  const out: WireBreakerEvent = { type: event.type, name: event.name, at: event.at };
  if (event.from !== undefined) out.from = event.from;
  if (event.to !== undefined) out.to = event.to;
  if (event.reason !== undefined) out.reason = event.reason;
  if (event.retryAfterMs !== undefined) out.retryAfterMs = event.retryAfterMs;
  if (event.durationMs !== undefined) out.durationMs = event.durationMs;
  if (event.error !== undefined) out.error = toWireError(event.error, exposeErrorMessages);
  return out;
}

function isSummary(value: unknown): value is { type: string; message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** One property of a thrown value; a getter that throws reads as absent (thrown values are hostile). */
function read(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function stringify(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
