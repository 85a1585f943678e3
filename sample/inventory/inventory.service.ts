import { Injectable } from '@nestjs/common';
import { breakerSignal, CircuitBreaker } from '../../lib';
import { DownstreamServers } from '../downstream/downstream-servers';
import { requestJson } from '../downstream/json-client';

export interface Reservation {
  reservationId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
}

export interface Product {
  sku: string;
  name: string;
  category: string;
  price: number;
  stock: number;
}

export interface ProductList {
  products: Product[];
  /** When the inventory API produced this list: an old time means a last-known-good answer. */
  servedAt: string;
}

/** Talks to the inventory API. */
@Injectable()
export class InventoryService {
  constructor(private readonly downstream: DownstreamServers) {}

  /**
   * Takes items off the shelf through the `inventory` breaker, whose options retry a failed attempt
   * with backoff before giving up (each attempt is a separate call of the breaker).
   */
  @CircuitBreaker('inventory')
  async reserve(sku: string, quantity: number): Promise<Reservation> {
    const signal = breakerSignal();
    const url = `${this.downstream.url('inventory')}/reservations`;
    return requestJson<Reservation>('inventory', url, { method: 'POST', body: { sku, quantity }, signal });
  }

  /** The product list; unprotected here because the catalogue route wraps it in its own breaker. */
  async products(category?: string): Promise<ProductList> {
    const query = category === undefined ? '' : `?category=${encodeURIComponent(category)}`;
    return requestJson<ProductList>('inventory', `${this.downstream.url('inventory')}/products${query}`);
  }
}
