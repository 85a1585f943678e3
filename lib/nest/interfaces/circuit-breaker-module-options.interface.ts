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
  /**
   * Mounts `POST /:name/force-open`, `/disable` and `/reset`. Default false (they answer 404). Without
   * `guards` this fails bootstrap unless `allowUnguardedControl` is true: anyone who can reach these routes
   * can switch a dependency off.
   */
  control?: boolean;
  /**
   * Accepts `control: true` without `guards`, on purpose: the routes are reachable only from a trusted
   * network (an internal port, a network policy), or a global guard (`APP_GUARD`) protects them. Default false.
   *
   * @example
   * http: { control: true, allowUnguardedControl: true } // served on an admin port only
   */
  allowUnguardedControl?: boolean;
  /**
   * Error messages leave the process (recent events, server-sent events, the dashboard) only when true.
   * Default false: those show the error's type, `code` and `status`, never its message (messages routinely
   * hold hostnames, ports, SQL fragments or user data).
   */
  exposeErrorMessages?: boolean;
  /**
   * Says that the routes are unguarded on purpose; silences the warning logged at bootstrap when
   * `NODE_ENV` is `production` and the routes are mounted without `guards`. Default false.
   */
  allowUnguarded?: boolean;
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
   * Alias of `mapOpenErrors.http`: a `CircuitOpenError` reaching the HTTP layer answers 503 with
   * `Retry-After` (a `CallTimeoutError` 504, a `BulkheadFullError` 503). Default true. Giving both it and
   * `mapOpenErrors` is fine only when they agree on HTTP.
   * @example { mapOpenToHttp: false } // map it yourself in an exception filter
   */
  mapOpenToHttp?: boolean;
  /**
   * Which transports turn breaker errors into their own errors: `true` (the default) or `false` for all,
   * or one switch per transport (a missing one stays on). HTTP: 503/504 JSON; GraphQL: a
   * `SERVICE_UNAVAILABLE` error; microservices: `RpcException` (gRPC: `UNAVAILABLE`); WebSockets: `WsException`.
   *
   * @example
   * CircuitBreakerModule.forRoot({ mapOpenErrors: { ws: false } }) // gateways handle CircuitOpenError themselves
   */
  mapOpenErrors?: boolean | { http?: boolean; graphql?: boolean; rpc?: boolean; ws?: boolean };
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
  /** Randomness for jitter and the adaptive throttle (tests pass a seeded one). Default `Math.random`. */
  random?: () => number;
  /** Prometheus metrics: name prefix, histogram buckets, prom-client registry. */
  metrics?: CircuitBreakerMetricsOptions;
  /** The server-sent event stream (`GET <http.path>/events`). */
  events?: CircuitBreakerEventsOptions;
  /**
   * OpenTelemetry metrics and span events (needs `@opentelemetry/api`): `true` for the global providers,
   * or the providers to use. Default off. See `nestjs-breaker/otel`.
   */
  otel?: boolean | CircuitBreakerOtelOptions;
}

/**
 * Where `otel` sends the breakers' metrics and span events. Typed by shape, so that these options compile
 * without `@opentelemetry/api` installed; pass the SDK's providers.
 */
export interface CircuitBreakerOtelOptions {
  /** An OpenTelemetry `MeterProvider`. Default: the global one. */
  meterProvider?: { getMeter(name: string, version?: string): unknown };
  /**
   * An OpenTelemetry `TracerProvider`, used for a state change made while no span is active. Default: the
   * global one; `false`: no span events.
   */
  tracerProvider?: { getTracer(name: string, version?: string): unknown } | false;
  /** Record `circuit_breaker.call.duration` (two clock reads and one histogram record per call). Default true. */
  callDuration?: boolean;
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
