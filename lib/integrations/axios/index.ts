// Entry point `nestjs-breaker/axios` (optional peers: axios, @nestjs/axios).
export { protectAxios, type ProtectAxiosOptions, type Unprotect } from './protect-axios';
export { protectHttpService, HttpServiceProtection } from './protect-http-service';
export {
  CircuitBreakerHttpModule,
  type CircuitBreakerHttpModuleOptions,
} from './circuit-breaker-http.module';
