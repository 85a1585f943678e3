import { Module } from '@nestjs/common';
import { PaymentController } from './payment.controller';
import { PaymentService } from './payment.service';

@Module({ controllers: [PaymentController], providers: [PaymentService], exports: [PaymentService] })
export class PaymentModule {}
