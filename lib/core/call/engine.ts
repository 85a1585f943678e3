import type { Bulkhead } from '../bulkhead';
import type { LinkedSignal } from '../call-signal';
import type { Clock } from '../clock';
import type { CallTimeoutError, CircuitOpenError } from '../errors';
import type { LastKnownGood } from '../last-known-good';
import type { ResolvedOptions } from '../options';
import type { FallbackOption } from '../types';

// The narrow interface below the call paths (the files of call/): what they ask of a breaker. `Breaker` implements it; the call paths never import the class,
// so lib/core has no import cycle. Nothing here is public API.

/** A protected function as the call paths hold it: its argument types are the caller's business. */
export type AnyFn = (...args: never[]) => unknown;
/** The same function, callable with the arguments the breaker was handed. */
export type Call = (...args: unknown[]) => unknown;

/** What `execute()` keeps of a function's results: the shape a call that does not run takes. */
export type Shape = 'unknown' | 'promise' | 'observable' | 'sync';

/** What a breaker (or a decorated method) has learnt about the shape of its function's results. */
export interface ShapeMemory {
  shape: Shape;
}

/**
 * What surrounds the breaker for one caller: the fallback (with its own last-known-good cache) and whether
 * a call is a single attempt. Callers that share a breaker (decorated methods sharing a name) keep their
 * own fallbacks this way while sharing one circuit.
 */
export interface CallPolicy {
  /** No fallback and no retry: a call is one attempt and its outcome is the caller's. */
  readonly plain: boolean;
  readonly fallback: FallbackOption | undefined;
  readonly lastKnownGood: LastKnownGood | undefined;
}

/**
 * A breaker as the call paths drive it. Every call asks for a permit (`acquire`, or `readmit` when it
 * leaves the bulkhead queue), then reports exactly one outcome for it (`onSuccess`, `onFailure`,
 * `onTimeout`, `onIgnored`, `onCancel`, `release`, or `giveBack` when another path takes the call over).
 */
export interface CallEngine extends CallPolicy, ShapeMemory {
  readonly name: string;
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly random: () => number;
  /** A call's start time is needed (slow calls, a duration observer). */
  readonly readsStart: boolean;
  readonly bulkhead: Bulkhead | undefined;
  /** Set when `acquire()` refused only because the fleet must admit the probe (`fleetProbe()`). */
  readonly awaitsFleet: boolean;

  /** A permit (the generation of the state that issued it) or REJECTED (0). */
  acquire(): number;
  fleetProbe(): Promise<number>;
  decideLocally(): number;
  readmit(permit: number): number;
  /** Counts a rejection and builds its error. */
  reject(): CircuitOpenError;
  release(permit: number, error: unknown): void;
  giveBack(permit: number): void;
  onSuccess(permit: number, start: number): void;
  onFailure(permit: number, start: number, error: unknown, timedOut?: boolean): void;
  onIgnored(permit: number, error: unknown): void;
  onCancel(permit: number): void;
  onTimeout(permit: number, start: number, error: CallTimeoutError): void;
  rejectsFor(ms: number): boolean;
  countFallback(error: unknown): void;
  /** Counts an attempt the retry policy starts again (the snapshot's `retries`). */
  countRetry(): void;
  waitSignal(args: unknown[], extra?: AbortSignal): LinkedSignal;
  runPromise(fn: AnyFn, thisArg: unknown, args: unknown[], policy?: CallPolicy): Promise<unknown>;

  /** The permit whose generation `fastOk` and `fastErr` settle (see promise.ts). */
  fastPermit: number;
  fastOk: (value: unknown) => unknown;
  fastErr: (error: unknown) => never;
}
