import { BreakerConfigError } from '../core/errors';
import type { CircuitBreakerMethodSpec } from './circuit-breaker-method';
import type { AppBinding } from './method-binding';

/**
 * How a protected method finds the application its instance belongs to. The decorator replaces the method
 * on the prototype when the class is defined, so the protection is in place before any Nest lifecycle hook
 * runs (a method called from another module's `onModuleInit`, or a route handler Nest captured before
 * `onModuleInit`, is already protected). The application is looked up per instance, never globally:
 * several applications (tests) may run the same classes side by side.
 */

const BINDING = Symbol('nestjs-breaker.binding');

type Bindable = { [BINDING]?: AppBinding };

/** An application that can tell which instances are its own (implemented by the explorer). */
export interface InstanceBinder {
  readonly binding: AppBinding;
  /** Binds and returns the binding when `instance` is one of this application's singleton instances. */
  claim(instance: object): AppBinding | undefined;
  /** True when `instance` belongs to a request-scoped or transient class this application provides. */
  ownsClassOf(instance: object): boolean;
}

// WeakRefs: an application whose bootstrap failed (so it is never closed) must not stay reachable.
const binders = new Set<WeakRef<InstanceBinder>>();
// For instances that cannot carry a property (frozen, sealed).
const sideTable = new WeakMap<object, AppBinding>();
const warned = new WeakSet<CircuitBreakerMethodSpec>();

/** Makes `binder` known to protected methods until the returned function is called. */
export function registerBinder(binder: InstanceBinder): () => void {
  const ref = new WeakRef(binder);
  binders.add(ref);
  return () => {
    binders.delete(ref);
  };
}

/** Points `instance` at `binding` (its application's registry). */
export function bindInstance(instance: object, binding: AppBinding): void {
  if (Object.isExtensible(instance)) {
    Object.defineProperty(instance, BINDING, { value: binding, configurable: true, writable: true });
  } else {
    sideTable.set(instance, binding);
  }
}

/** Forgets the binding of `instance` if it is still `binding` (its application is closing). */
export function unbindInstance(instance: object, binding: AppBinding): void {
  if (Object.prototype.hasOwnProperty.call(instance, BINDING) && (instance as Bindable)[BINDING] === binding)
    delete (instance as Bindable)[BINDING];
  if (sideTable.get(instance) === binding) sideTable.delete(instance);
}

/** The protected replacement of `spec.original`: each call goes through the instance's breaker. */
export function protectMethod(spec: CircuitBreakerMethodSpec): (...args: unknown[]) => unknown {
  const method = function (this: unknown, ...args: unknown[]): unknown {
    const binding = this === null || this === undefined ? undefined : (this as Bindable)[BINDING];
    if (binding !== undefined) return binding.invoke(spec, this, args);
    return callUnbound(spec, this, args);
  };
  Object.defineProperty(method, 'name', { value: spec.original.name, configurable: true });
  return method;
}

function callUnbound(spec: CircuitBreakerMethodSpec, self: unknown, args: unknown[]): unknown {
  const binding = findBinding(self);
  if (binding !== undefined) return binding.invoke(spec, self, args);
  if (!warned.has(spec)) {
    warned.add(spec);
    process.emitWarning(
      `${spec.label} ran without its circuit breaker "${spec.name}": the instance does not belong to a ` +
        'running Nest application that imports CircuitBreakerModule (created with `new`, or called ' +
        'before the module was instantiated)',
      { code: 'EBREAKERUNBOUND' },
    );
  }
  return spec.original.apply(self, args);
}

function findBinding(self: unknown): AppBinding | undefined {
  if (self === null || (typeof self !== 'object' && typeof self !== 'function')) return undefined;
  const instance = self as object;
  const known = sideTable.get(instance);
  if (known !== undefined) return known;
  const live: InstanceBinder[] = [];
  for (const ref of binders) {
    const binder = ref.deref();
    if (binder === undefined) binders.delete(ref);
    else live.push(binder);
  }
  for (const binder of live) {
    const claimed = binder.claim(instance);
    if (claimed !== undefined) return claimed;
  }
  const owners = live.filter((binder) => binder.ownsClassOf(instance));
  if (owners.length > 1) {
    const className = (instance as { constructor?: { name?: string } }).constructor?.name ?? 'an instance';
    throw new BreakerConfigError(
      `${className} is request-scoped or transient and provided by ${owners.length} running Nest ` +
        'applications; nestjs-breaker cannot tell which application a new instance belongs to. ' +
        'Close the other application, or make the provider a singleton',
    );
  }
  if (owners.length === 0) return undefined;
  bindInstance(instance, owners[0].binding);
  return owners[0].binding;
}
