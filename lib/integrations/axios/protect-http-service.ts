import { HttpService } from '@nestjs/axios';
import type { FactoryProvider, OnModuleDestroy } from '@nestjs/common';
import { BreakerConfigError } from '../../core/errors';
import { CircuitBreakerRegistry } from '../../nest/circuit-breaker.registry';
import { resolveHttpRules } from '../fetch/http-rules';
import { protectAxios, type ProtectAxiosOptions, type Unprotect } from './protect-axios';

/** The protection of one module's `HttpService`; undone when the module is destroyed (`app.close()`). */
export class HttpServiceProtection implements OnModuleDestroy {
  constructor(private readonly unprotect: Unprotect) {}

  onModuleDestroy(): void {
    this.unprotect();
  }
}

/**
 * A provider that sends every request of the module's `HttpService` through breakers of the app's
 * `CircuitBreakerRegistry` (see `protectAxios`). Add it to a module that sees both, e.g. one that imports
 * `HttpModule.registerAsync(...)` next to a global `CircuitBreakerModule`. The protection is installed
 * when the provider is created, before any `onModuleInit` runs.
 *
 * Plain `HttpModule` (without `register`) shares axios's global default instance: protecting it
 * protects every user of that instance in the process until the app closes.
 *
 * @example
 * @Module({
 *   imports: [HttpModule.registerAsync({ useFactory: () => ({ timeout: 5_000 }) })],
 *   providers: [protectHttpService({ isFailureStatus: (s) => s >= 500 || s === 429 }), CatalogueClient],
 * })
 * export class CatalogueModule {}
 */
export function protectHttpService(
  options: ProtectAxiosOptions = {},
): FactoryProvider<HttpServiceProtection> {
  return protectionProvider('protectHttpService', options);
}

/** @internal `owner` names the API the options were given to, in error messages. */
export function protectionProvider(
  owner: string,
  options: ProtectAxiosOptions,
): FactoryProvider<HttpServiceProtection> {
  // Checked now, so a bad option fails where the module is declared.
  resolveHttpRules(owner, options);
  return {
    provide: HttpServiceProtection,
    inject: [HttpService, { token: CircuitBreakerRegistry, optional: true }],
    useFactory: (http: HttpService, registry: CircuitBreakerRegistry | undefined) => {
      if (registry === undefined) {
        throw new BreakerConfigError(
          `${owner}: no CircuitBreakerRegistry is visible here: import CircuitBreakerModule.forRoot({ isGlobal: true, ... }) in the app, or add this provider to the module that imports CircuitBreakerModule.forRoot()`,
        );
      }
      return new HttpServiceProtection(protectAxios(http.axiosRef, registry, options));
    },
  };
}
