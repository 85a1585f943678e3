import type { FallbackOption, BreakerOptions } from '../core/types';
import { CIRCUIT_BREAKER_CLASS_METHODS, CIRCUIT_BREAKER_METHOD } from './circuit-breaker.constants';

/** A method's key function: called with the method's arguments (and `this`), returns a key or undefined. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arguments mirror the decorated method's
export type MethodKeyFunction = (...args: any[]) => string | undefined;

/** Which execution variant a protected method uses, read from TypeScript's `design:returntype`. */
export type MethodVariant = 'promise' | 'observable' | 'auto';

/** Everything `@CircuitBreaker` recorded about one method (one per decorated method, never shared). */
export interface CircuitBreakerMethodSpec {
  /** The breaker's name. */
  readonly name: string;
  /** `Class.method`, for messages. */
  readonly label: string;
  readonly className: string;
  readonly methodKey: string | symbol;
  /** A method name on the same class, a function, `{ value }` or `{ lastKnownGood }`; undefined: the breaker's. */
  readonly fallback: string | FallbackOption | undefined;
  /** Picks the keyed breaker of the family for a call (`undefined`: the unkeyed one); belongs to the method. */
  readonly key?: MethodKeyFunction;
  /** Breaker options given in the decorator besides `fallback` (they configure the named breaker). */
  readonly overrides: BreakerOptions | undefined;
  readonly variant: MethodVariant;
  /** The method as written (what the breaker calls). */
  readonly original: (...args: unknown[]) => unknown;
}

/** The spec of a protected method, or undefined for any other function. */
export function specOf(fn: unknown): CircuitBreakerMethodSpec | undefined {
  if (typeof fn !== 'function') return undefined;
  return Reflect.getOwnMetadata(CIRCUIT_BREAKER_METHOD, fn) as CircuitBreakerMethodSpec | undefined;
}

/** Records `spec` among the methods `prototype` declares itself. */
export function addClassMethod(prototype: object, spec: CircuitBreakerMethodSpec): void {
  const own = (Reflect.getOwnMetadata(CIRCUIT_BREAKER_CLASS_METHODS, prototype) ??
    []) as CircuitBreakerMethodSpec[];
  Reflect.defineMetadata(CIRCUIT_BREAKER_CLASS_METHODS, [...own, spec], prototype);
}

/**
 * Every `@CircuitBreaker` method along the prototype chain, base classes included (also a base method that a
 * subclass overrides: `super.method()` still goes through its breaker).
 */
export function methodsOf(prototype: object | null): CircuitBreakerMethodSpec[] {
  const out: CircuitBreakerMethodSpec[] = [];
  for (
    let p = prototype;
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object | null
  ) {
    const own = Reflect.getOwnMetadata(CIRCUIT_BREAKER_CLASS_METHODS, p) as
      CircuitBreakerMethodSpec[] | undefined;
    if (own !== undefined) out.push(...own);
  }
  return out;
}

/** The variant for a `design:returntype`: explicit for Promise and Observable, discovered otherwise. */
export function variantOf(returnType: unknown): MethodVariant {
  if (returnType === Promise) return 'promise';
  if (typeof returnType === 'function') {
    // Recognised by shape, not identity: the app's rxjs copy may differ from ours.
    const proto = (returnType as { prototype?: Record<string, unknown> }).prototype;
    if (proto !== undefined && typeof proto.subscribe === 'function' && typeof proto.lift === 'function')
      return 'observable';
  }
  return 'auto';
}
