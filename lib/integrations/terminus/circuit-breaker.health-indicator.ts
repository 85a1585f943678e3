import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { CircuitState } from '../../core/circuit-state';
import { BreakerConfigError } from '../../core/errors';
import { describeValue } from '../../core/options';
import type { BreakerSnapshot } from '../../core/types';
import { CircuitBreakerRegistry } from '../../nest/circuit-breaker.registry';

/** Which breakers a health check looks at, and what makes it down. */
export interface CircuitBreakerHealthOptions {
  /** Breakers to check. Default: every breaker in the registry. */
  names?: string[];
  /**
   * `'never'` (default): always up, with every breaker that is not CLOSED in the details. An open circuit
   * means a dependency is down, not this instance: a readiness probe that fails on it takes every pod
   * sharing that dependency out of service at once.
   * `'open'`: down while any checked breaker is OPEN or FORCED_OPEN (a liveness dashboard, an alert).
   * `'any-not-closed'`: down unless every checked breaker is CLOSED (HALF_OPEN, DISABLED, METRICS_ONLY too).
   *
   * @example
   * this.breakers.isHealthy('breakers', { names: ['payment'], downOn: 'open' })
   */
  downOn?: 'never' | 'open' | 'any-not-closed';
}

/** A breaker that rejects calls: OPEN (until `retryAfterMs` has passed) or FORCED_OPEN (until reset). */
export interface OpenBreakerDetail {
  name: string;
  state: CircuitState;
  retryAfterMs: number;
}

/** What the indicator reports under its key (next to Terminus' `status`). */
export interface CircuitBreakerHealthDetails {
  [detail: string]: unknown;
  /** How many breakers were checked. */
  checked: number;
  /** Why it is down, or (with `downOn: 'never'`) which breakers are open; absent while all is well. */
  message?: string;
  open: OpenBreakerDetail[];
  halfOpen: { name: string; halfOpenInFlight: number }[];
  /** DISABLED and METRICS_ONLY breakers. */
  manual: { name: string; state: CircuitState }[];
  /** Breakers whose shared store cannot be reached: they decide on local state meanwhile. */
  degraded: string[];
}

const DOWN_ON = ['never', 'open', 'any-not-closed'];

/**
 * A Terminus health indicator over the application's circuit breakers.
 *
 * @example
 * // health.module.ts: imports: [TerminusModule], providers: [CircuitBreakerHealthIndicator]
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.breakers.isHealthy('breakers', { names: ['payment'] })]);
 * }
 */
@Injectable()
export class CircuitBreakerHealthIndicator {
  constructor(
    private readonly registry: CircuitBreakerRegistry,
    private readonly health: HealthIndicatorService,
  ) {}

  /**
   * Up, with the open, half-open and manual breakers in the details (`downOn: 'never'`, the default);
   * with `downOn: 'open'`, down while a checked breaker rejects calls; with `'any-not-closed'`, down unless
   * all are CLOSED. Throws for a name the registry does not know: a typo in a health check must not pass
   * as healthy.
   */
  isHealthy<const Key extends string>(
    key: Key,
    options: CircuitBreakerHealthOptions = {},
  ): HealthIndicatorResult<Key, 'up' | 'down', CircuitBreakerHealthDetails> {
    const { names, downOn = 'never' } = validate(options);
    const all = this.registry.metrics();
    const checked: BreakerSnapshot[] = [];
    for (const name of names ?? Object.keys(all)) {
      const snapshot = all[name];
      if (snapshot === undefined) {
        throw new BreakerConfigError(
          `CircuitBreakerHealthIndicator: no circuit breaker named ${describeValue(name)}; known: ${Object.keys(
            all,
          )
            .map((n) => describeValue(n))
            .join(', ')}`,
        );
      }
      checked.push(snapshot);
    }
    const details: CircuitBreakerHealthDetails = {
      checked: checked.length,
      open: [],
      halfOpen: [],
      manual: [],
      degraded: [],
    };
    for (const s of checked) {
      if (s.state === CircuitState.OPEN || s.state === CircuitState.FORCED_OPEN) {
        details.open.push({ name: s.name, state: s.state, retryAfterMs: s.retryAfterMs });
      } else if (s.state === CircuitState.HALF_OPEN) {
        details.halfOpen.push({ name: s.name, halfOpenInFlight: s.halfOpenInFlight });
      } else if (s.state !== CircuitState.CLOSED) {
        details.manual.push({ name: s.name, state: s.state });
      }
      if (s.store === 'degraded') details.degraded.push(s.name);
    }
    const session = this.health.check(key);
    const notClosed = details.open.length + details.halfOpen.length + details.manual.length;
    if (details.open.length > 0) {
      details.message = `${details.open.length} circuit breaker(s) open: ${details.open.map((o) => o.name).join(', ')}`;
      if (downOn !== 'never') return session.down(details);
    }
    if (downOn === 'any-not-closed' && notClosed > 0) {
      const names = [...details.halfOpen, ...details.manual].map((b) => b.name);
      details.message = `${notClosed} circuit breaker(s) not closed: ${names.join(', ')}`;
      return session.down(details);
    }
    return session.up(details);
  }
}

function validate(options: unknown): CircuitBreakerHealthOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new BreakerConfigError(
      `CircuitBreakerHealthIndicator: options must be an object { names?, downOn? }, got ${describeValue(options)}`,
    );
  }
  const o = options as CircuitBreakerHealthOptions & Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'names' && key !== 'downOn') {
      throw new BreakerConfigError(
        `CircuitBreakerHealthIndicator: unknown option "${key}" (known: names, downOn)`,
      );
    }
  }
  if (o.downOn !== undefined && !DOWN_ON.includes(o.downOn)) {
    throw new BreakerConfigError(
      `CircuitBreakerHealthIndicator: downOn must be 'never', 'open' or 'any-not-closed', got ${describeValue(o.downOn)}`,
    );
  }
  if (o.names !== undefined && (!Array.isArray(o.names) || o.names.some((n) => typeof n !== 'string'))) {
    throw new BreakerConfigError(
      `CircuitBreakerHealthIndicator: names must be an array of breaker names, got ${describeValue(o.names)}`,
    );
  }
  return o;
}
