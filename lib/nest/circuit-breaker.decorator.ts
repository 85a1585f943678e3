import { BreakerConfigError } from '../core/errors';
import { checkOptionsShape, describeValue } from '../core/options';
import type { BreakerOptions, FallbackOption } from '../core/types';
import {
  addClassMethod,
  specOf,
  variantOf,
  type CircuitBreakerMethodSpec,
  type MethodKeyFunction,
} from './circuit-breaker-method';
import { CIRCUIT_BREAKER_METHOD } from './circuit-breaker.constants';
import { protectMethod } from './protected-method';

/**
 * Options of one decorated method. `fallback` belongs to the method; every other field configures the
 * named breaker itself (merged over `forRoot`'s `breakers[name]` and `defaults`), so methods sharing a
 * name must not give different values.
 *
 * `M` is a method-name `fallback` as written, kept so that the decorator can check it against the class
 * it is applied to. (Only names are captured: a function fallback keeps its parameters typed from the
 * context, as before.)
 */
export interface CircuitBreakerMethodOptions<M extends string = string> extends Omit<
  BreakerOptions,
  'fallback'
> {
  /**
   * The name of a public method on the same class, called as `method(...args, error)` on the same
   * instance (checked by the compiler); a function called the same way; `{ value }`; or `{ lastKnownGood }`
   * (cached per method).
   *
   * @example
   * @CircuitBreaker('payment', { fallback: 'queueForLater' }) // 'queueForLater' must be a method of the class
   */
  fallback?: M | FallbackOption;
  /**
   * Gives each call its own circuit within the family `name`: called with the method's arguments, it
   * returns the key (a tenant, merchant, host...) or `undefined` for the family's unkeyed breaker. Belongs
   * to the method, like `fallback`. If it throws or returns anything else, nothing runs and the caller
   * gets `BreakerCallbackError`.
   *
   * @example
   * @CircuitBreaker('payment', { key: (order: Order) => order.merchantId })
   */
  key?: MethodKeyFunction;
}

/** The names of the public methods of `T` (own and inherited). */
export type MethodNames<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T];

/**
 * What the decorated class must be for fallback `F`: anything, unless `F` is a literal method name that
 * `T` lacks. Then it must have a property whose name is the message, which no class has: the compiler
 * reports `Property '"fallback 'nope' is not a public method of this class"' is missing`.
 *
 * Not checked: a name typed as plain `string` (the bootstrap check still applies) and an unknown target
 * (`Object`, as inside `applyDecorators`), where no class is in sight.
 */
export type FallbackMethodOf<T, F> = [F] extends [never] // no fallback given
  ? unknown
  : [F] extends [string]
    ? string extends F
      ? unknown
      : object extends T
        ? unknown
        : [F] extends [MethodNames<T>]
          ? unknown
          : { [P in `fallback '${F}' is not a public method of this class`]: never }
    : unknown;

/**
 * A method decorator that checks, when applied, that a method-name fallback `F` is a method of the class.
 * Assignable to `MethodDecorator`.
 */
export type CircuitBreakerDecorator<F = never> = <T extends object>(
  target: T & FallbackMethodOf<T, F>,
  key: string | symbol,
  descriptor: PropertyDescriptor,
) => PropertyDescriptor;

type Method = (...args: unknown[]) => unknown;

/**
 * Protects a provider or controller method with the breaker named `name`: every call goes through it,
 * and the call keeps its shape (Promise, Observable or plain value). Several methods may share a name
 * (and so one circuit). Found at bootstrap; request-scoped and transient providers are protected too.
 *
 * @example
 * @Injectable()
 * export class PaymentService {
 *   @CircuitBreaker('payment', { fallback: 'queueCharge' })
 *   charge(amount: number): Promise<Receipt> { return this.gateway.charge(amount); }
 *
 *   queueCharge(amount: number, error: unknown): Receipt { return { queued: true, amount }; }
 * }
 */
export function CircuitBreaker<M extends string = never>(
  name: string,
  options?: CircuitBreakerMethodOptions<M>,
): CircuitBreakerDecorator<M>;
export function CircuitBreaker<M extends string = never>(
  options: CircuitBreakerMethodOptions<M> & { name: string },
): CircuitBreakerDecorator<M>;
export function CircuitBreaker(
  nameOrOptions: string | (CircuitBreakerMethodOptions & { name: string }),
  maybeOptions?: CircuitBreakerMethodOptions,
): CircuitBreakerDecorator<string> {
  const { name, options } = splitArguments(nameOrOptions, maybeOptions);
  const { fallback, key: keyOf, ...overrides } = options;
  if (keyOf !== undefined && typeof keyOf !== 'function')
    throw new BreakerConfigError(
      `@CircuitBreaker('${name}'): key must be a function (...args) => string | undefined, got ${describeValue(keyOf)}`,
    );
  if (fallback !== undefined && typeof fallback !== 'string' && typeof fallback !== 'function') {
    if (fallback === null || typeof fallback !== 'object')
      throw new BreakerConfigError(
        `@CircuitBreaker('${name}'): fallback must be a method name, a function, { value } or { lastKnownGood }, got ${describeValue(fallback)}`,
      );
  }
  // Unknown keys are most likely typos: report them where the class is written.
  checkOptionsShape(name, overrides, 'decorator options');
  const hasOverrides = Object.keys(overrides).length > 0;

  return (target: object, key: string | symbol, descriptor: PropertyDescriptor) => {
    const className =
      typeof target === 'function' ? (target as { name: string }).name : target.constructor.name;
    const label = `${className}.${String(key)}`;
    if (typeof target === 'function')
      throw new BreakerConfigError(
        `@CircuitBreaker('${name}') on static method ${label}: only instance methods can be protected`,
      );
    const original = descriptor?.value as Method | undefined;
    if (typeof original !== 'function')
      throw new BreakerConfigError(`@CircuitBreaker('${name}') on ${label}: only methods can be protected`);
    const existing = specOf(original);
    if (existing !== undefined)
      throw new BreakerConfigError(
        `@CircuitBreaker is applied twice to ${label} ('${existing.name}' and '${name}'): a method goes through one breaker`,
      );
    const spec: CircuitBreakerMethodSpec = {
      name,
      label,
      className,
      methodKey: key,
      fallback: fallback as string | FallbackOption | undefined,
      key: keyOf,
      overrides: hasOverrides ? overrides : undefined,
      variant: variantOf(Reflect.getMetadata('design:returntype', target, key)),
      original,
    };
    const method = protectMethod(spec);
    // Decorators applied before this one stored their metadata on the original function (@OnEvent, @Get...).
    for (const metadataKey of Reflect.getOwnMetadataKeys(original))
      Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, original), method);
    Reflect.defineMetadata(CIRCUIT_BREAKER_METHOD, spec, method);
    addClassMethod(target, spec);
    descriptor.value = method;
    return descriptor;
  };
}

function splitArguments(
  nameOrOptions: unknown,
  maybeOptions: unknown,
): { name: string; options: CircuitBreakerMethodOptions } {
  let name: unknown;
  let options: unknown;
  if (typeof nameOrOptions === 'string') {
    name = nameOrOptions;
    options = maybeOptions ?? {};
  } else if (nameOrOptions !== null && typeof nameOrOptions === 'object' && !Array.isArray(nameOrOptions)) {
    const { name: given, ...rest } = nameOrOptions as { name?: unknown };
    name = given;
    options = rest;
    if (maybeOptions !== undefined)
      throw new BreakerConfigError(
        '@CircuitBreaker({ name, ...options }) takes one argument; use @CircuitBreaker(name, options) for two',
      );
  } else {
    throw new BreakerConfigError(
      `@CircuitBreaker needs a breaker name or { name, ...options }, got ${describeValue(nameOrOptions)}`,
    );
  }
  if (typeof name !== 'string' || name.length === 0)
    throw new BreakerConfigError(
      `@CircuitBreaker: the breaker name must be a non-empty string, got ${describeValue(name)}`,
    );
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new BreakerConfigError(
      `@CircuitBreaker('${name}'): options must be an object, got ${describeValue(options)}`,
    );
  return { name, options: options as CircuitBreakerMethodOptions };
}
