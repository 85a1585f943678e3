import type { Breaker, CallPolicy, ShapeMemory } from '../core/breaker';
import type { BreakerRef, BreakerRegistry } from '../core/registry';
import { resolveOptions } from '../core/options';
import type { FallbackOption } from '../core/types';
import type { CircuitBreakerMethodSpec } from './circuit-breaker-method';

type Method = (...args: unknown[]) => unknown;

/** One decorated method in one application: its breaker handle, fallback policy and shape memory. */
class MethodState {
  private owner: Breaker | undefined;
  private policy: CallPolicy | undefined;
  /** What the breaker learnt about this method's results (shared by every instance of the class). */
  private readonly memory: ShapeMemory = { shape: 'unknown' };

  constructor(
    private readonly spec: CircuitBreakerMethodSpec,
    private readonly ref: BreakerRef,
    private readonly fallback: FallbackOption | undefined,
  ) {}

  invoke(thisArg: unknown, args: unknown[]): unknown {
    const breaker = this.ref.breaker;
    let policy = this.policy as CallPolicy;
    // `register()` may have replaced the breaker: its policy (retry, fallback) is rebuilt once.
    if (breaker !== this.owner) {
      this.owner = breaker;
      policy = this.policy = breaker.callPolicy(this.fallback);
    }
    const fn = this.spec.original;
    switch (this.spec.variant) {
      case 'promise':
        return breaker.runPromise(fn, thisArg, args, policy);
      case 'observable':
        return breaker.runObservable(fn, thisArg, args, undefined, policy);
      default:
        return breaker.run(this.memory, fn, thisArg, args, policy);
    }
  }
}

/**
 * What a protected method reaches through its instance: the application's registry and one state per
 * decorated method. One per application; an instance points at the binding of the application that owns it.
 */
export class AppBinding {
  private readonly methods = new Map<CircuitBreakerMethodSpec, MethodState>();

  constructor(readonly registry: BreakerRegistry) {}

  invoke(spec: CircuitBreakerMethodSpec, thisArg: unknown, args: unknown[]): unknown {
    let state = this.methods.get(spec);
    if (state === undefined) {
      state = new MethodState(spec, this.registry.ref(spec.name), methodFallback(spec));
      this.methods.set(spec, state);
    }
    return state.invoke(thisArg, args);
  }
}

/**
 * The fallback a method's calls use, in the form the core takes: a method name becomes a function that
 * calls that method on the instance the call ran on (the core binds `this` to it).
 */
export function methodFallback(spec: CircuitBreakerMethodSpec): FallbackOption | undefined {
  const fallback = spec.fallback;
  if (fallback === undefined) return undefined;
  if (typeof fallback === 'string') {
    const name = fallback;
    return function (this: Record<string, unknown>, ...argsThenError: unknown[]): unknown {
      return (this[name] as Method).apply(this, argsThenError);
    };
  }
  // Validated (and copied) the way breaker options are: the message names the breaker.
  return resolveOptions(spec.name, { fallback }).fallback;
}
