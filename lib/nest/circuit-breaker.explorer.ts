import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { BreakerConfigError } from '../core/errors';
import { methodsOf, type CircuitBreakerMethodSpec } from './circuit-breaker-method';
import { configuredNames } from './circuit-breaker-options';
import { CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker.constants';
import { CircuitBreakerRegistry } from './circuit-breaker.registry';
import { DecoratorOverrides } from './decorator-overrides';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface';
import { AppBinding, methodFallback } from './method-binding';
import { bindInstance, registerBinder, unbindInstance, type InstanceBinder } from './protected-method';

/**
 * Finds every `@CircuitBreaker` method of the application's providers and controllers, checks it (fallback
 * method exists, `strict` names, options), configures its breaker, and points each instance at this
 * application's registry. The methods themselves were protected when their classes were defined, so
 * nothing is wrapped here (and nothing can be wrapped twice).
 *
 * Checks run as early as the information exists: in the constructor for every class Nest will instantiate
 * (so bootstrap fails before any hook runs), in `onModuleInit` for instances made by factories. A call that
 * arrives before `onModuleInit` (another module's hook) binds its instance on the spot.
 */
@Injectable()
export class CircuitBreakerExplorer implements InstanceBinder, OnModuleInit, OnApplicationShutdown {
  readonly binding: AppBinding;
  private readonly strict: boolean;
  private readonly configuredNames: Set<string>;
  private readonly overrides: DecoratorOverrides;
  private readonly checked = new Set<CircuitBreakerMethodSpec>();
  /** Prototypes of request-scoped and transient classes: their instances are created after bootstrap. */
  private readonly dynamicPrototypes = new Set<object>();
  private readonly bound = new Set<object>();
  private readonly unregister: () => void;
  private initialized = false;
  private closed = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly registry: CircuitBreakerRegistry,
    @Inject(CIRCUIT_BREAKER_OPTIONS) options: CircuitBreakerModuleOptions,
  ) {
    this.binding = new AppBinding(registry);
    this.strict = options.strict === true;
    this.configuredNames = configuredNames(options);
    this.overrides = new DecoratorOverrides(registry, options.breakers);
    for (const wrapper of this.wrappers()) {
      const prototype = classPrototype(wrapper);
      if (prototype !== undefined) this.check(methodsOf(prototype), prototype, false);
    }
    this.unregister = registerBinder(this);
  }

  onModuleInit(): void {
    const copies = this.discovery.getProviders().filter((w) => w.metatype === CircuitBreakerExplorer).length;
    if (copies > 1)
      throw new BreakerConfigError(
        `CircuitBreakerModule is registered ${copies} times in this application (each forRoot/forRootAsync ` +
          'call makes one): register it once, with isGlobal: true or in a shared module that exports it',
      );
    for (const wrapper of this.wrappers()) {
      const dynamic = wrapper.isTransient || !wrapper.isDependencyTreeStatic();
      if (dynamic) {
        const prototype = classPrototype(wrapper);
        const specs = prototype === undefined ? [] : methodsOf(prototype);
        if (prototype !== undefined && specs.length > 0) {
          // A fallback method must be on the prototype: there is no instance to look at yet.
          this.check(specs, prototype, true);
          this.dynamicPrototypes.add(prototype);
        }
      }
      // A request-scoped wrapper holds only a placeholder; its instances are bound by class when they call.
      if (!dynamic || wrapper.isTransient)
        for (const instance of staticInstances(wrapper)) this.adopt(instance);
    }
    this.initialized = true;
  }

  claim(instance: object): AppBinding | undefined {
    // After onModuleInit every singleton is bound already; only request-scoped instances are new.
    if (this.closed || this.initialized) return undefined;
    for (const wrapper of this.wrappers()) {
      if (staticInstances(wrapper).includes(instance)) return this.adopt(instance);
    }
    return undefined;
  }

  ownsClassOf(instance: object): boolean {
    if (this.closed) return false;
    for (
      let p = Object.getPrototypeOf(instance) as object | null;
      p !== null;
      p = Object.getPrototypeOf(p) as object | null
    )
      if (this.dynamicPrototypes.has(p)) return true;
    return false;
  }

  onApplicationShutdown(): void {
    this.closed = true;
    this.unregister();
    for (const instance of this.bound) unbindInstance(instance, this.binding);
    this.bound.clear();
  }

  /** Checks the instance's methods and binds it; returns the binding (undefined if it has none). */
  private adopt(instance: object): AppBinding | undefined {
    const specs = methodsOf(Object.getPrototypeOf(instance) as object | null);
    if (specs.length === 0) return undefined;
    this.check(specs, instance, true);
    bindInstance(instance, this.binding);
    this.bound.add(instance);
    return this.binding;
  }

  /**
   * Checks specs against `holder` (an instance, or a prototype) and configures their breakers. `final`:
   * a fallback method missing from a prototype is an error (otherwise an instance may still bring it).
   */
  private check(specs: CircuitBreakerMethodSpec[], holder: object, final: boolean): void {
    for (const spec of specs) {
      if (this.checked.has(spec)) continue;
      if (typeof spec.fallback === 'string') {
        const fallback = (holder as Record<string, unknown>)[spec.fallback];
        if (typeof fallback !== 'function') {
          if (!final) continue;
          throw new BreakerConfigError(
            `@CircuitBreaker('${spec.name}') on ${spec.label}: fallback method "${spec.fallback}" does not ` +
              `exist on ${spec.className}` +
              (fallback === undefined ? '' : ` (it is ${typeof fallback}, not a method)`),
          );
        }
      } else if (spec.fallback !== undefined) {
        try {
          methodFallback(spec);
        } catch (error) {
          if (error instanceof BreakerConfigError)
            throw new BreakerConfigError(`${error.message} (in @CircuitBreaker on ${spec.label})`);
          throw error;
        }
      }
      if (this.strict && !this.configuredNames.has(spec.name)) {
        const known = [...this.configuredNames].map((n) => JSON.stringify(n)).join(', ') || 'none';
        throw new BreakerConfigError(
          `@CircuitBreaker('${spec.name}') on ${spec.label}: breaker "${spec.name}" is not configured ` +
            `(strict: true needs it in CircuitBreakerModule.forRoot({ breakers }); configured: ${known})`,
        );
      }
      this.overrides.apply(spec);
      // Decorated breakers exist from bootstrap, so they show in metrics before their first call.
      this.registry.ref(spec.name);
      this.checked.add(spec);
    }
  }

  private wrappers(): InstanceWrapper[] {
    return [...this.discovery.getProviders(), ...this.discovery.getControllers()];
  }
}

/** The prototype of the class a wrapper instantiates (or of its ready value), if known before it runs. */
function classPrototype(wrapper: InstanceWrapper): object | undefined {
  const metatype = wrapper.metatype as { prototype?: unknown } | null;
  if (wrapper.inject == null && typeof metatype === 'function' && typeof metatype.prototype === 'object')
    return metatype.prototype as object;
  const instance: unknown = wrapper.instance;
  if (instance !== null && typeof instance === 'object') return Object.getPrototypeOf(instance) as object;
  return undefined;
}

/** The singleton instance and the transient instances made for singletons. */
function staticInstances(wrapper: InstanceWrapper): object[] {
  const out: object[] = [];
  const instance: unknown = wrapper.instance;
  if (instance !== null && typeof instance === 'object') out.push(instance);
  if (wrapper.isTransient) {
    for (const perContext of wrapper.getStaticTransientInstances()) {
      const transient: unknown = perContext?.instance;
      if (transient !== null && typeof transient === 'object') out.push(transient);
    }
  }
  return out;
}
