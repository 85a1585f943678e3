import { BadRequestException, Body, Controller, Get, Param, Post } from '@nestjs/common';
import { OrdersService, type Order, type OrderRequest } from './orders.service';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /** `{ "sku": "hammer", "quantity": 1 }` → the order; 503 + Retry-After while the inventory circuit is open. */
  @Post()
  place(@Body() body: unknown): Promise<Order> {
    return this.orders.place(parseOrder(body));
  }

  @Get()
  list(): Order[] {
    return this.orders.list();
  }

  @Get(':id')
  find(@Param('id') id: string): Order {
    return this.orders.find(id);
  }
}

function parseOrder(body: unknown): OrderRequest {
  const {
    sku,
    quantity = 1,
    merchantId,
  } = (body ?? {}) as { sku?: unknown; quantity?: unknown; merchantId?: unknown };
  if (typeof sku !== 'string' || sku === '') {
    throw new BadRequestException(`sku must be a non-empty string, got ${JSON.stringify(sku)}`);
  }
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    throw new BadRequestException(`quantity must be an integer >= 1, got ${JSON.stringify(quantity)}`);
  }
  if (merchantId !== undefined && (typeof merchantId !== 'string' || merchantId === '')) {
    throw new BadRequestException(`merchantId must be a non-empty string, got ${JSON.stringify(merchantId)}`);
  }
  return merchantId === undefined ? { sku, quantity } : { sku, quantity, merchantId };
}
