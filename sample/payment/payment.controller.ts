import { Controller, Get, Param } from '@nestjs/common';
import { PaymentService, type Charge, type ChargeRequest } from './payment.service';

@Controller('payments')
export class PaymentController {
  constructor(private readonly payments: PaymentService) {}

  /** Charges the fallback queued while the payment API was down. */
  @Get('queued')
  queued(): readonly ChargeRequest[] {
    return this.payments.queued();
  }

  @Get(':orderId')
  find(@Param('orderId') orderId: string): Promise<Charge> {
    return this.payments.findCharge(orderId);
  }
}
