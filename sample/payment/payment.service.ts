import { Injectable, Logger } from '@nestjs/common';
import { breakerSignal, CircuitBreaker } from '../../lib';
import { DownstreamServers } from '../downstream/downstream-servers';
import { requestJson } from '../downstream/json-client';

export interface ChargeRequest {
  orderId: string;
  amount: number;
  /** The merchant selling: each merchant's charges go through a circuit of their own. */
  merchantId?: string;
}

/** What the payment API keeps for a charge. */
export interface Charge extends ChargeRequest {
  chargeId: string;
  chargedAt: string;
}

export type PaymentOutcome = { status: 'paid'; chargeId: string } | { status: 'queued'; reason: string };

/** Talks to the payment API through the `payment` breaker. */
@Injectable()
export class PaymentService {
  private readonly logger = new Logger(PaymentService.name);
  private readonly pending: ChargeRequest[] = [];

  constructor(private readonly downstream: DownstreamServers) {}

  /**
   * Charges an order. When the payment API is down (or the circuit is open) the charge is queued instead.
   * Keyed by merchant: one merchant whose payment account fails trips its own circuit, not everyone's
   * (orders without a merchant go through the unkeyed `payment` breaker).
   */
  @CircuitBreaker('payment', {
    fallback: 'queueForLater',
    key: (request: ChargeRequest) => request.merchantId,
  })
  async charge(request: ChargeRequest): Promise<PaymentOutcome> {
    // The breaker's signal belongs to the call that is starting: read it before the first await.
    const signal = breakerSignal();
    const url = `${this.downstream.url('payment')}/charges`;
    const charge = await requestJson<Charge>('payment', url, { method: 'POST', body: request, signal });
    return { status: 'paid', chargeId: charge.chargeId };
  }

  /** The fallback of `charge`: called with charge's arguments followed by the error. */
  queueForLater(request: ChargeRequest, error: unknown): PaymentOutcome {
    this.pending.push(request);
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`charge for order ${request.orderId} queued: ${reason}`);
    return { status: 'queued', reason };
  }

  /** Looks a charge up. No fallback: while the circuit is open this answers 503 with Retry-After. */
  @CircuitBreaker('payment')
  async findCharge(orderId: string): Promise<Charge> {
    const signal = breakerSignal();
    const url = `${this.downstream.url('payment')}/charges/${encodeURIComponent(orderId)}`;
    return requestJson<Charge>('payment', url, { signal });
  }

  /** Charges waiting for the payment API to come back. */
  queued(): readonly ChargeRequest[] {
    return this.pending;
  }
}
