// The public barrel: exactly what API.md names.
export * from './core';
export { breakerFetch, type BreakerFetchOptions, type FetchFunction } from './integrations/fetch';
export { CircuitBreakerModule } from './circuit-breaker.module';
export { CircuitBreakerRegistry } from './nest/circuit-breaker.registry';
export { CircuitBreaker, type CircuitBreakerMethodOptions } from './nest/circuit-breaker.decorator';
export { CircuitBreakerInterceptor } from './nest/circuit-breaker.interceptor';
export { CircuitOpenExceptionFilter } from './nest/circuit-open.filter';
export {
  CIRCUIT_BREAKER_OPTIONS,
  type CircuitBreakerModuleOptions,
  type CircuitBreakerHttpOptions,
} from './nest/circuit-breaker.constants';
export type {
  CircuitBreakerModuleAsyncOptions,
  CircuitBreakerOptionsFactory,
} from './nest/interfaces/circuit-breaker-module-options.interface';
