/**
 * Cumulative counters that most breakers never move off zero (ignored errors, cancellations, timeouts,
 * fallbacks served, retries, openings, throttled calls). They live in a separate object created by the first of them, so a
 * healthy breaker does not carry five zero fields; the counters every call touches stay on the breaker.
 */
export class OccasionalCounts {
  ignored = 0;
  cancelled = 0;
  timeouts = 0;
  fallbacks = 0;
  retries = 0;
  opened = 0;
  throttled = 0;
}
