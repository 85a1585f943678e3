import { Controller, Get, Query } from '@nestjs/common';
import { CircuitBreaker } from '../../lib';
import { InventoryService, type ProductList } from '../inventory/inventory.service';

@Controller('catalogue')
export class CatalogueController {
  constructor(private readonly inventory: InventoryService) {}

  /**
   * The `catalogue` breaker is configured with a last-known-good fallback: while the inventory API fails,
   * the last good list for the same category is served (see its `servedAt`) and the response's
   * `X-Circuit-Breaker-State` header tells the client the circuit's state.
   */
  @Get()
  @CircuitBreaker('catalogue')
  list(@Query('category') category?: string): Promise<ProductList> {
    return this.inventory.products(category);
  }
}
