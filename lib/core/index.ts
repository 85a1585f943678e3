export { CircuitState } from './circuit-state';
export { systemClock, type Clock } from './clock';
export { ManualClock } from './manual-clock';
export type { SleepingClock } from './call/retry';
export {
  CircuitOpenError,
  CallThrottledError,
  CallTimeoutError,
  BulkheadFullError,
  BreakerConfigError,
  ResultFailureError,
  BreakerCallbackError,
  type RejectionReason,
  type CircuitOpenErrorDetails,
} from './errors';
export { Breaker, createBreaker, type BreakerDeps } from './breaker';
export { BreakerRegistry, type BreakerRegistryOptions } from './registry';
export { breakerSignal } from './call-signal';
export type {
  BreakerOptions,
  BreakerSnapshot,
  BreakerEvent,
  BreakerEventType,
  WindowOptions,
  HalfOpenBackoff,
  RetryOptions,
  RetryBackoff,
  BulkheadOptions,
  LastKnownGoodOptions,
  ThrottleOptions,
  FallbackOption,
  ErrorClass,
  StoreStatus,
  KeysOptions,
  FamilyKeyCounts,
  ErrorSummary,
} from './types';
export type { MachineState, DurationObserver, NotableEventObserver } from './state-machine';
export {
  MemoryStateStore,
  type CircuitStateStore,
  type StoreLink,
  type StoreParticipant,
  type SharedState,
  type WindowCounts,
  type ProbeAnswer,
  type TransitionSource,
} from './store';
