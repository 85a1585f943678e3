import type { CallPolicy, ShapeMemory } from '../core/breaker';
import type { BreakerRef, BreakerRegistry } from '../core/registry';
import { BreakerCallbackError } from '../core/errors';
import { describeValue, resolveOptions, type ResolvedOptions } from '../core/options';
import { loadRx } from '../core/rx';
import type { FallbackOption } from '../core/types';
import type { CircuitBreakerMethodSpec } from './circuit-breaker-method';

type Method = (...args: unknown[]) => unknown;

/** One decorated method in one application: its breaker handle, fallback policy and shape memory. */
class MethodState {
  /** The options the policy was built for: keys of a family share their unkeyed breaker's options object. */
  private owner: ResolvedOptions | undefined;
  private policy: CallPolicy | undefined;
  /** What the breaker learnt about this method's results (shared by every instance of the class). */
  private readonly memory: ShapeMemory = { shape: 'unknown' };

  constructor(
    private readonly spec: CircuitBreakerMethodSpec,
    private readonly ref: BreakerRef,
    private readonly fallback: FallbackOption | undefined,
    private readonly registry: BreakerRegistry,
  ) {}

  invoke(thisArg: unknown, args: unknown[]): unknown {
    let breaker = this.ref.breaker;
    const keyOf = this.spec.key;
    if (keyOf !== undefined) {
      let key: unknown;
      try {
        key = keyOf.apply(thisArg, args);
      } catch (error) {
        return this.refuse(new BreakerCallbackError(this.spec.name, 'key', error));
      }
      if (typeof key === 'string') breaker = this.registry.get(this.spec.name, key);
      else if (key !== undefined)
        return this.refuse(
          new BreakerCallbackError(
            this.spec.name,
            'key',
            new TypeError(
              `key of ${this.spec.label} must return a string or undefined, got ${describeValue(key)}`,
            ),
          ),
        );
    }
    let policy = this.policy as CallPolicy;
    // `register()` may have replaced the breaker: its policy (retry, fallback) is rebuilt once.
    if (breaker.options !== this.owner) {
      this.owner = breaker.options;
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

  /** A call refused before it ran (its key function failed), in the shape the method's calls take. */
  private refuse(error: BreakerCallbackError): unknown {
    const variant = this.spec.variant;
    const shape = this.memory.shape;
    if (variant === 'promise' || (variant === 'auto' && shape === 'promise')) return Promise.reject(error);
    if (variant === 'observable' || (variant === 'auto' && shape === 'observable'))
      return loadRx().throwError(() => error);
    throw error;
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
      state = new MethodState(spec, this.registry.ref(spec.name), methodFallback(spec), this.registry);
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
