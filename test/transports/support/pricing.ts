// The protected dependency every transport spec serves: a pricing API behind the 'pricing' breaker, reached
// over real HTTP (a flaky downstream the spec switches between answering and failing).
import { Inject, Injectable, type Provider } from '@nestjs/common';
import { CircuitBreaker, CircuitBreakerModule, ManualClock, type CircuitState } from '../../../lib';
import { getJson, startDownstream, type Downstream } from '../../nest/support/downstream';

export const PRICING_URL = Symbol('PRICING_URL');

/** Trips after two failures in a row; one probe is admitted 10 s (of the ManualClock) later and closes it. */
export const HALF_OPEN_AFTER_MS = 10_000;

export const PROMO_FALLBACK = 'no promotion today';

@Injectable()
export class PricingClient {
  constructor(@Inject(PRICING_URL) private readonly url: string) {}

  @CircuitBreaker('pricing')
  async price(sku: string): Promise<number> {
    await getJson(`${this.url}/price/${encodeURIComponent(sku)}`);
    return 42;
  }

  @CircuitBreaker('pricing', { fallback: { value: PROMO_FALLBACK } })
  async promo(): Promise<string> {
    await getJson(`${this.url}/promo`);
    return 'two for one';
  }
}

/** A downstream, the ManualClock and the module + providers that wire PricingClient to them. */
export interface PricingSetup {
  downstream: Downstream;
  clock: ManualClock;
  imports: ReturnType<typeof CircuitBreakerModule.forRoot>[];
  providers: Provider[];
}

export async function pricingSetup(
  moduleOptions: Parameters<typeof CircuitBreakerModule.forRoot>[0] = {},
): Promise<PricingSetup> {
  const downstream = await startDownstream();
  const clock = new ManualClock();
  return {
    downstream,
    clock,
    imports: [
      CircuitBreakerModule.forRoot({
        clock,
        http: false,
        breakers: {
          pricing: {
            failureThreshold: 2,
            halfOpenAfterMs: HALF_OPEN_AFTER_MS,
            halfOpenMaxCalls: 1,
            successThreshold: 1,
          },
        },
        ...moduleOptions,
      }),
    ],
    providers: [PricingClient, { provide: PRICING_URL, useValue: downstream.url }],
  };
}

/** The object an open 'pricing' circuit becomes on RPC and WebSockets (and GraphQL's extensions). */
export function openPricing(
  state: CircuitState | `${CircuitState}` = 'open',
  retryAfterMs = HALF_OPEN_AFTER_MS,
) {
  return {
    code: 'ECIRCUITOPEN',
    message: `circuit breaker "pricing" is open; retry in ${retryAfterMs} ms`,
    breaker: 'pricing',
    state,
    retryAfterMs,
  };
}
