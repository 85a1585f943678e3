import { HttpException } from '@nestjs/common';
import type { BreakerOptions } from '../lib';

export type ShopBreaker = 'payment' | 'inventory' | 'catalogue';

/** A downstream's 4xx answer is the caller's mistake, not an outage: it must not trip a breaker. */
export function isOutage(error: unknown): boolean {
  return !(error instanceof HttpException && error.getStatus() < 500);
}

/** Shared by every breaker unless it says otherwise. */
export const SHOP_DEFAULTS: BreakerOptions = { halfOpenAfterMs: 10_000, isFailure: isOutage };

/**
 * One breaker per downstream, each tuned to what its callers can live with.
 * - payment: money matters, so trip fast (3 failures in a row) and give up on a hung call after 2 s;
 *   checkout then queues the charge instead (the method fallback in PaymentService).
 * - inventory: flaky rather than dead, so retry with backoff first and trip on the failure rate.
 * - catalogue: a read where slightly old data beats an error, so serve the last good answer.
 */
export const SHOP_BREAKERS: Record<ShopBreaker, BreakerOptions> = {
  payment: { failureThreshold: 3, halfOpenAfterMs: 15_000, callTimeoutMs: 2_000 },
  inventory: {
    failureRateThreshold: 50,
    minimumCalls: 6,
    window: { type: 'count', size: 20 },
    retry: { maxAttempts: 3, backoff: { type: 'exponential', baseMs: 100, maxMs: 1_000, jitter: 'full' } },
  },
  catalogue: {
    failureThreshold: 2,
    fallback: { lastKnownGood: { ttlMs: 5 * 60_000, maxEntries: 20 } },
  },
};

/** The shop's breakers with per-breaker overrides laid over them (used by tests to shorten timeouts). */
export function shopBreakers(
  overrides: Partial<Record<ShopBreaker, BreakerOptions>> = {},
): Record<ShopBreaker, BreakerOptions> {
  return {
    payment: { ...SHOP_BREAKERS.payment, ...overrides.payment },
    inventory: { ...SHOP_BREAKERS.inventory, ...overrides.inventory },
    catalogue: { ...SHOP_BREAKERS.catalogue, ...overrides.catalogue },
  };
}
