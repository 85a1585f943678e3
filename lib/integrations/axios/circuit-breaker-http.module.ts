import { HttpModule, type HttpModuleOptions } from '@nestjs/axios';
import { Module, type DynamicModule } from '@nestjs/common';
import { resolveHttpRules } from '../fetch/http-rules';
import type { ProtectAxiosOptions } from './protect-axios';
import { protectionProvider } from './protect-http-service';

export interface CircuitBreakerHttpModuleOptions extends ProtectAxiosOptions {
  /** Config of the module's own axios instance (`HttpModule.register(http)`). */
  http?: HttpModuleOptions;
  /** Registers the module globally: every module can inject the protected `HttpService`. Default false. */
  isGlobal?: boolean;
}

/**
 * `HttpModule` whose `HttpService` sends every request through breakers of the app's
 * `CircuitBreakerRegistry`: one per origin by default, configured under that name in
 * `CircuitBreakerModule.forRoot({ breakers })`. The registry must be visible (`isGlobal: true`).
 *
 * @example
 * @Module({
 *   imports: [
 *     CircuitBreakerModule.forRoot({ isGlobal: true, breakers: { 'https://inventory.internal': { failureThreshold: 3 } } }),
 *     CircuitBreakerHttpModule.register({ http: { timeout: 5_000 } }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({})
export class CircuitBreakerHttpModule {
  static register(options: CircuitBreakerHttpModuleOptions = {}): DynamicModule {
    const owner = 'CircuitBreakerHttpModule.register';
    // Also rejects a non-object `options` (same message), before it is destructured below.
    resolveHttpRules(owner, options, ['http', 'isGlobal']);
    const { http, isGlobal, ...rules } = options;
    return {
      module: CircuitBreakerHttpModule,
      global: isGlobal === true,
      // Its own axios instance: plain HttpModule would share (and protect) axios's global default instance.
      imports: [HttpModule.register(http ?? {})],
      providers: [protectionProvider(owner, rules)],
      exports: [HttpModule],
    };
  }
}
