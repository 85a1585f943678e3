import type { ErrorSummary } from './types';

/** Messages kept beyond this are cut: a response body pasted into a message must not be retained whole. */
const MAX_MESSAGE = 1000;

/**
 * What a retained event keeps of an error (the recent-events ring, and whatever reads it): its name,
 * message, code and HTTP status, never the object itself, which may hold a whole response.
 */
export function summarizeError(error: unknown): ErrorSummary {
  try {
    return summarize(error);
  } catch {
    // A getter that throws (name, message, code...) must not turn recording an outcome into a crash.
    return { type: 'unknown', message: 'an error whose properties could not be read' };
  }
}

function summarize(error: unknown): ErrorSummary {
  if (error === null || typeof error !== 'object') {
    return { type: typeof error, message: cut(String(error)) };
  }
  const e = error as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown } | null;
  };
  const summary: ErrorSummary =
    error instanceof Error
      ? { type: error.name, message: cut(error.message) }
      : { type: 'object', message: typeof e.message === 'string' ? cut(e.message) : describe(error) };
  if (typeof e.code === 'string') summary.code = e.code;
  else if (typeof e.code === 'number') summary.code = String(e.code);
  const status = typeof e.status === 'number' ? e.status : e.response?.status;
  if (typeof status === 'number') summary.status = status;
  return summary;
}

/** A thrown non-Error object, as text (it may be circular). */
function describe(value: object): string {
  try {
    return cut(JSON.stringify(value) ?? Object.prototype.toString.call(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function cut(text: string): string {
  return text.length > MAX_MESSAGE ? text.slice(0, MAX_MESSAGE) : text;
}
