/** Statuses whose `Retry-After` says "I am unavailable / you are too fast, come back later". */
const HINTING_STATUSES = new Set([429, 503]);

/**
 * How long a `Retry-After` header asks the client to wait, in ms: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, judged against `nowMs`). `undefined` for a missing or unreadable
 * header; a date in the past gives 0.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value.length === 0) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Only a date-looking value: Date.parse accepts bare numbers like "-5" or "1.5" as years.
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * The OPEN-duration hint a failed response carries: its `Retry-After`, for a 503 or 429 only, capped at
 * `maxMs` so one header cannot shut a downstream out for a day.
 */
export function retryAfterHint(
  status: number,
  header: string | null | undefined,
  nowMs: number,
  maxMs: number,
): number | undefined {
  if (!HINTING_STATUSES.has(status)) return undefined;
  const ms = parseRetryAfter(header, nowMs);
  return ms === undefined ? undefined : Math.min(ms, maxMs);
}
