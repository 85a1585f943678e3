/**
 * Injection token of the options given to `CircuitBreakerModule.forRoot` (or returned by the
 * `forRootAsync` factory). Inject it to read the module's configuration.
 *
 * @example
 * constructor(@Inject(CIRCUIT_BREAKER_OPTIONS) private readonly options: CircuitBreakerModuleOptions) {}
 */
export const CIRCUIT_BREAKER_OPTIONS = Symbol('CIRCUIT_BREAKER_OPTIONS');

/** Metadata key of a `@CircuitBreaker` method (the method's spec, on the protected function). */
export const CIRCUIT_BREAKER_METHOD = 'nestjs-breaker:method';

/** Metadata key listing the `@CircuitBreaker` methods a class declares itself (on its prototype). */
export const CIRCUIT_BREAKER_CLASS_METHODS = 'nestjs-breaker:class-methods';

/** Response header naming the state of the route's breaker. */
export const CIRCUIT_BREAKER_STATE_HEADER = 'X-Circuit-Breaker-State';

/** The metrics controller's default mount path. */
export const DEFAULT_HTTP_PATH = 'circuit-breakers';

export type {
  CircuitBreakerModuleOptions,
  CircuitBreakerHttpOptions,
} from './interfaces/circuit-breaker-module-options.interface';
