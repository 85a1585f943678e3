import { Injectable, NotFoundException } from '@nestjs/common';
import { InventoryService } from '../inventory/inventory.service';
import { PaymentService, type PaymentOutcome } from '../payment/payment.service';

export interface OrderRequest {
  sku: string;
  quantity: number;
  /** The merchant selling (optional): payment keeps one circuit per merchant. */
  merchantId?: string;
}

export interface Order extends OrderRequest {
  id: string;
  amount: number;
  /** `payment_queued`: the payment API was down, the charge waits in the payment queue. */
  status: 'paid' | 'payment_queued';
  payment: PaymentOutcome;
}

/** Checkout: reserve stock (inventory breaker, with retry), then charge (payment breaker, with fallback). */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>();

  constructor(
    private readonly inventory: InventoryService,
    private readonly payments: PaymentService,
  ) {}

  async place({ sku, quantity, merchantId }: OrderRequest): Promise<Order> {
    const reservation = await this.inventory.reserve(sku, quantity);
    const id = `o_${this.orders.size + 1}`;
    const amount = Math.round(reservation.unitPrice * quantity * 100) / 100;
    const payment = await this.payments.charge({ orderId: id, amount, merchantId });
    const order: Order = {
      id,
      sku,
      quantity,
      ...(merchantId === undefined ? {} : { merchantId }),
      amount,
      status: payment.status === 'paid' ? 'paid' : 'payment_queued',
      payment,
    };
    this.orders.set(id, order);
    return order;
  }

  find(id: string): Order {
    const order = this.orders.get(id);
    if (order === undefined) throw new NotFoundException(`no order ${id}`);
    return order;
  }

  list(): Order[] {
    return [...this.orders.values()];
  }
}
