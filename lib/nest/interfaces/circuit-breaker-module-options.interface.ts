import type { CanActivate, Type } from '@nestjs/common';
import type { ConfigurableModuleAsyncOptions } from '@nestjs/common';
import type { Clock } from '../../core/clock';
import type { CircuitStateStore } from '../../core/store';
import type { BreakerOptions } from '../../core/types';
import type {
  CircuitBreakerEventsOptions,
  CircuitBreakerMetricsOptions,
} from './circuit-breaker-observability-options.interface';

/** Where and how the metrics controller is mounted. */
export interface CircuitBreakerHttpOptions {
  /** Mount path of the routes. Default `'circuit-breakers'`. */
  path?: string;
  /** Guards run before every route of the controller (classes resolved by Nest, or instances). */
  guards?: (Type<CanActivate> | CanActivate)[];
  /** Mounts `POST /:name/force-open`, `/disable` and `/reset`. Default false (they answer 404). */
  control?: boolean;
}

/**
 * Options of `CircuitBreakerModule.forRoot` (and what a `forRootAsync` factory returns).
 *
 * Features add their own optional fields here (and their names to `MODULE_OPTION_KEYS` in
 * `circuit-breaker-options.ts`, which rejects unknown keys).
 *
 * @example
 * CircuitBreakerModule.forRoot({
 *   defaults: { halfOpenAfterMs: 30_000 },
 *   breakers: { payment: { failureThreshold: 3 }, inventory: { failureRateThreshold: 50 } },
 *   http: { path: 'ops/breakers', guards: [AdminGuard], control: true },
 * })
 */
export interface CircuitBreakerModuleOptions {
  /**
   * Registers the module globally (its registry injectable everywhere). Default false.
   * @example { isGlobal: true }
   */
  isGlobal?: boolean;
  /**
   * Merged under every breaker's own options (a `window` named here keeps a window in every breaker).
   * @example { defaults: { halfOpenAfterMs: 30_000, callTimeoutMs: 5_000 } }
   */
  defaults?: BreakerOptions;
  /**
   * Per-breaker configuration, merged over `defaults`; these breakers exist from bootstrap.
   * @example { breakers: { payment: { failureThreshold: 3 }, search: { failureRateThreshold: 50 } } }
   */
  breakers?: Record<string, BreakerOptions>;
  /**
   * True: a `@CircuitBreaker` naming a breaker missing from `breakers` fails bootstrap (catches typos).
   * Default false.
   * @example { strict: true, breakers: { payment: {} } }
   */
  strict?: boolean;
  /**
   * The metrics controller: `false` mounts nothing. With `forRootAsync`, pass it next to `useFactory`
   * (routes are mounted before the factory runs).
   * @example { http: { path: 'ops/breakers', guards: [AdminGuard], control: true } }
   */
  http?: false | CircuitBreakerHttpOptions;
  /**
   * A `CircuitOpenError` reaching the HTTP layer answers 503 with `Retry-After`. Default true.
   * @example { mapOpenToHttp: false } // map it yourself in an exception filter
   */
  mapOpenToHttp?: boolean;
  /**
   * Where breaker state lives: in memory (the default), or shared by every instance of the app with
   * `new RedisStateStore({ connection })` from `nestjs-breaker/redis`. Closed on `app.close()` (a store
   * closes only the connections it created).
   * @example { store: new RedisStateStore({ connection: 'redis://127.0.0.1:6379' }) }
   */
  store?: CircuitStateStore;
  /**
   * Time source of every breaker (tests pass a `ManualClock`); its `now()` must return epoch ms as a
   * finite number, checked at bootstrap. Default real time.
   * @example { clock: new ManualClock() }
   */
  clock?: Clock;
  /** Prometheus metrics: name prefix, histogram buckets, prom-client registry. */
  metrics?: CircuitBreakerMetricsOptions;
  /** The server-sent event stream (`GET <http.path>/events`). */
  events?: CircuitBreakerEventsOptions;
}

/** What `useClass` / `useExisting` of `forRootAsync` must implement. */
export interface CircuitBreakerOptionsFactory {
  createCircuitBreakerOptions(): CircuitBreakerModuleOptions | Promise<CircuitBreakerModuleOptions>;
}

/**
 * Options of `CircuitBreakerModule.forRootAsync`.
 *
 * @example
 * CircuitBreakerModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ defaults: { halfOpenAfterMs: config.get('CB_OPEN_MS') } }),
 *   http: { path: 'ops/breakers' },
 * })
 */
export interface CircuitBreakerModuleAsyncOptions extends ConfigurableModuleAsyncOptions<
  CircuitBreakerModuleOptions,
  'createCircuitBreakerOptions'
> {
  /** Registers the module globally. Default false. */
  isGlobal?: boolean;
  /** The metrics controller's mount (static: routes exist before the factory runs). */
  http?: false | CircuitBreakerHttpOptions;
}
