import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { BreakerConfigError } from './core/errors';
import { describeValue } from './core/options';
import { createCircuitBreakerControllers, createCircuitBreakerHttpProviders } from './http/mount';
import { CircuitBreakerObservability } from './http/observability.service';
import { CircuitBreakerOtel } from './integrations/otel/circuit-breaker-otel.service';
import { ConfigurableCircuitBreakerModule } from './circuit-breaker.module-definition';
import { resolveHttpOptions, type ResolvedHttpOptions } from './nest/circuit-breaker-options';
import { CIRCUIT_BREAKER_OPTIONS } from './nest/circuit-breaker.constants';
import { CircuitBreakerExplorer } from './nest/circuit-breaker.explorer';
import { CircuitBreakerInterceptor } from './nest/circuit-breaker.interceptor';
import { CircuitBreakerRegistry } from './nest/circuit-breaker.registry';
import { CircuitBreakerStateLogger } from './nest/circuit-breaker-state.logger';
import { CircuitOpenExceptionFilter } from './nest/circuit-open.filter';
import { resolveOpenErrorMapping } from './nest/open-error-mapping';
import type {
  CircuitBreakerModuleAsyncOptions,
  CircuitBreakerModuleOptions,
} from './nest/interfaces/circuit-breaker-module-options.interface';

/** Checks, at bootstrap, that a forRootAsync factory did not return what only forRootAsync itself can take. */
const ASYNC_OPTIONS_CHECK = Symbol('CIRCUIT_BREAKER_ASYNC_OPTIONS_CHECK');

/**
 * Circuit breakers for a Nest application: the injectable `CircuitBreakerRegistry`, `@CircuitBreaker`
 * methods found at bootstrap, 503 mapping of open circuits, transition logging and the metrics routes.
 * Register it once (usually in the root module, `isGlobal: true` to inject the registry anywhere).
 *
 * @example
 * @Module({
 *   imports: [
 *     CircuitBreakerModule.forRoot({
 *       isGlobal: true,
 *       defaults: { halfOpenAfterMs: 30_000 },
 *       breakers: { payment: { failureThreshold: 3 } },
 *     }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({})
export class CircuitBreakerModule extends ConfigurableCircuitBreakerModule {
  static override forRoot(options: CircuitBreakerModuleOptions = {}): DynamicModule {
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      throw new BreakerConfigError(
        `CircuitBreakerModule.forRoot: options must be an object, got ${describeValue(options)}`,
      );
    checkIsGlobal('forRoot', options.isGlobal);
    const http = resolveHttpOptions(options.http);
    return assemble(super.forRoot(options), http, resolveOpenErrorMapping(options).http);
  }

  static override forRootAsync(options: CircuitBreakerModuleAsyncOptions): DynamicModule {
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      throw new BreakerConfigError(
        `CircuitBreakerModule.forRootAsync: options must be an object, got ${describeValue(options)}`,
      );
    const ways = (['useFactory', 'useClass', 'useExisting'] as const).filter((k) => options[k] !== undefined);
    if (ways.length !== 1)
      throw new BreakerConfigError(
        'CircuitBreakerModule.forRootAsync needs exactly one of useFactory, useClass or useExisting' +
          (ways.length > 1 ? `, got ${ways.join(' and ')}` : ''),
      );
    checkIsGlobal('forRootAsync', options.isGlobal);
    const http = resolveHttpOptions(options.http);
    const module = assemble(super.forRootAsync(options), http, true);
    module.providers = [
      ...(module.providers ?? []),
      {
        provide: ASYNC_OPTIONS_CHECK,
        inject: [CIRCUIT_BREAKER_OPTIONS],
        useFactory: (resolved: CircuitBreakerModuleOptions | undefined) => {
          for (const key of ['http', 'isGlobal'] as const) {
            if (resolved !== null && typeof resolved === 'object' && resolved[key] !== undefined)
              throw new BreakerConfigError(
                `CircuitBreakerModule.forRootAsync: the options factory returned "${key}", which is read ` +
                  `before the factory runs; pass it to forRootAsync({ ${key}, useFactory, ... }) instead`,
              );
          }
          return true;
        },
      },
    ];
    return module;
  }
}

function checkIsGlobal(method: string, isGlobal: unknown): void {
  if (isGlobal !== undefined && typeof isGlobal !== 'boolean')
    throw new BreakerConfigError(
      `CircuitBreakerModule.${method}: isGlobal must be true or false, got ${describeValue(isGlobal)}`,
    );
}

function assemble(base: DynamicModule, http: ResolvedHttpOptions | false, mapOpen: boolean): DynamicModule {
  const providers: Provider[] = [
    CircuitBreakerRegistry,
    CircuitBreakerExplorer,
    CircuitBreakerStateLogger,
    CircuitBreakerInterceptor,
    { provide: APP_INTERCEPTOR, useExisting: CircuitBreakerInterceptor },
    CircuitOpenExceptionFilter,
    CircuitBreakerObservability,
    CircuitBreakerOtel,
  ];
  // Registered only when HTTP maps: with it off, breaker errors reach the app's own HTTP filters untouched (a
  // filter cannot pass an error on). The other transports are mapped by the interceptor either way.
  if (mapOpen) providers.push({ provide: APP_FILTER, useExisting: CircuitOpenExceptionFilter });
  if (http !== false) providers.push(...createCircuitBreakerHttpProviders(http));
  return {
    ...base,
    imports: [...(base.imports ?? []), DiscoveryModule],
    providers: [...(base.providers ?? []), ...providers],
    controllers: http === false ? [] : createCircuitBreakerControllers(http),
    exports: [
      CIRCUIT_BREAKER_OPTIONS,
      CircuitBreakerRegistry,
      CircuitBreakerInterceptor,
      CircuitOpenExceptionFilter,
    ],
  };
}
