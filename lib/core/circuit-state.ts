/** The states a breaker can be in. The last three are only entered by hand. */
export enum CircuitState {
  CLOSED = 'closed',
  OPEN = 'open',
  HALF_OPEN = 'half_open',
  /** Rejects every call until `reset()` (or another manual state). */
  FORCED_OPEN = 'forced_open',
  /** Lets every call through and records nothing. */
  DISABLED = 'disabled',
  /** Records every call but never trips. */
  METRICS_ONLY = 'metrics_only',
}
