import type { Provider, Type } from '@nestjs/common';
import type { ResolvedHttpOptions } from '../nest/circuit-breaker-options';
import { createBreakersController } from './breakers.controller';
import { createControlController } from './control.controller';
import { createObservabilityController } from './observability.controller';
import { createUnguardedRoutesWarning } from './unguarded-routes.warning';

/**
 * The controllers `CircuitBreakerModule` mounts at `http.path`, all behind `http.guards`. Order matters:
 * Express matches routes in registration order, so controllers with fixed paths (`/metrics`, `/events`,
 * `/dashboard`) come before the one with `/:name`. A feature adds its controller factory to this list.
 */
export function createCircuitBreakerControllers(http: ResolvedHttpOptions): Type<unknown>[] {
  const controllers: Type<unknown>[] = [];
  // Fixed-path controllers go first (observability routes are added here).
  controllers.push(createObservabilityController(http));
  controllers.push(createBreakersController(http));
  if (http.control) controllers.push(createControlController(http));
  return controllers;
}

/** Providers that come with the mounted routes (the production warning about missing guards). */
export function createCircuitBreakerHttpProviders(http: ResolvedHttpOptions): Provider[] {
  return [createUnguardedRoutesWarning(http)];
}
