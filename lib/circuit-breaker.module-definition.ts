import { ConfigurableModuleBuilder } from '@nestjs/common';
import { CIRCUIT_BREAKER_OPTIONS } from './nest/circuit-breaker.constants';
import type {
  CircuitBreakerHttpOptions,
  CircuitBreakerModuleOptions,
} from './nest/interfaces/circuit-breaker-module-options.interface';

/** Fields read when the module is assembled, before any provider exists (routes are static). */
export interface CircuitBreakerModuleExtras {
  isGlobal?: boolean;
  http?: false | CircuitBreakerHttpOptions;
}

/**
 * forRoot / forRootAsync (useFactory + inject, useClass, useExisting, imports) and `isGlobal`, provided
 * under `CIRCUIT_BREAKER_OPTIONS`. `http` is not an extra at run time (it stays in forRoot's options); it
 * is typed here so that forRootAsync accepts it beside the factory.
 */
export const { ConfigurableModuleClass: ConfigurableCircuitBreakerModule } =
  new ConfigurableModuleBuilder<CircuitBreakerModuleOptions>({
    optionsInjectionToken: CIRCUIT_BREAKER_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createCircuitBreakerOptions')
    .setExtras<CircuitBreakerModuleExtras>({ isGlobal: false }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal === true,
    }))
    .build();
