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

// The machine keeps its state as a small integer: the hot paths compare numbers, never strings.
export const CLOSED = 0;
export const OPEN = 1;
export const HALF_OPEN = 2;
export const FORCED_OPEN = 3;
export const DISABLED = 4;
export const METRICS_ONLY = 5;

/** The public state for each mode code (indexed by the code). */
export const STATES = [
  CircuitState.CLOSED,
  CircuitState.OPEN,
  CircuitState.HALF_OPEN,
  CircuitState.FORCED_OPEN,
  CircuitState.DISABLED,
  CircuitState.METRICS_ONLY,
] as const;

/** A permit of 0 means "rejected"; any other value is the generation of the state that issued it. */
export const REJECTED = 0;
