import { Injectable, Logger, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';

/** The routes mounted at `http.path`, as the warning names them. */
export function mountedRoutes(http: ResolvedHttpOptions): string[] {
  const base = `/${http.path}`;
  const routes = [
    `GET ${base}`,
    `GET ${base}/:name`,
    `GET ${base}/metrics`,
    `GET ${base}/events`,
    `GET ${base}/dashboard`,
    `GET ${base}/:name/events`,
  ];
  if (http.control) routes.push(`POST ${base}/:name/{force-open,disable,reset}`);
  return routes;
}

/**
 * A provider that, at bootstrap in production (`NODE_ENV=production`), warns once when the breaker routes
 * are mounted without `http.guards`: anyone who reaches them sees which dependencies are failing and
 * when. A guard installed some other way (`APP_GUARD`, a proxy) is invisible here, hence a warning rather
 * than an error, silenced by `http.allowUnguarded: true`.
 */
export function createUnguardedRoutesWarning(http: ResolvedHttpOptions): Type<OnApplicationBootstrap> {
  @Injectable()
  class CircuitBreakerUnguardedRoutesWarning implements OnApplicationBootstrap {
    onApplicationBootstrap(): void {
      if (process.env.NODE_ENV !== 'production' || http.guards.length > 0 || http.allowUnguarded) return;
      new Logger('CircuitBreaker').warn(
        `the circuit breaker routes are mounted without guards: ${mountedRoutes(http).join(', ')}. ` +
          'Anyone who reaches them sees which dependencies fail and when' +
          (http.control ? ', and can switch them off' : '') +
          '. Pass http.guards (e.g. guards: [AdminGuard]), or set http.allowUnguarded: true when only a ' +
          'trusted network reaches them or a global guard protects them.',
      );
    }
  }
  return CircuitBreakerUnguardedRoutesWarning;
}
