// Entry point `nestjs-breaker/terminus` (optional peer @nestjs/terminus).
export {
  CircuitBreakerHealthIndicator,
  type CircuitBreakerHealthOptions,
  type CircuitBreakerHealthDetails,
  type OpenBreakerDetail,
} from './circuit-breaker.health-indicator';
