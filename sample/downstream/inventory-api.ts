import type { JsonHandler, JsonReply } from './chaos-server';

interface Product {
  sku: string;
  name: string;
  category: string;
  price: number;
  stock: number;
}

const PRODUCTS: readonly Product[] = [
  { sku: 'hammer', name: 'Claw hammer', category: 'tools', price: 19.9, stock: 25 },
  { sku: 'saw', name: 'Hand saw', category: 'tools', price: 24.5, stock: 10 },
  { sku: 'gloves', name: 'Work gloves', category: 'clothing', price: 7.0, stock: 40 },
  { sku: 'helmet', name: 'Safety helmet', category: 'clothing', price: 32.0, stock: 3 },
];

/**
 * The fake warehouse: `GET /products?category=` lists stock, `POST /reservations` takes items off the
 * shelf (404 unknown sku, 409 not enough stock: caller errors, not outages).
 */
export function inventoryApi(): JsonHandler {
  const products = new Map(PRODUCTS.map((p) => [p.sku, { ...p }]));
  let reservations = 0;
  return (method, url, body): JsonReply => {
    if (method === 'GET' && url.pathname === '/products') {
      const category = url.searchParams.get('category');
      const list = [...products.values()].filter((p) => category === null || p.category === category);
      return { status: 200, body: { products: list, servedAt: new Date().toISOString() } };
    }
    if (method === 'POST' && url.pathname === '/reservations') {
      const { sku, quantity } = (body ?? {}) as { sku?: unknown; quantity?: unknown };
      const product = typeof sku === 'string' ? products.get(sku) : undefined;
      if (product === undefined) return { status: 404, body: { message: `unknown sku ${String(sku)}` } };
      if (!Number.isInteger(quantity) || (quantity as number) < 1) {
        return { status: 400, body: { message: 'quantity must be an integer >= 1' } };
      }
      const wanted = quantity as number;
      if (product.stock < wanted) {
        return {
          status: 409,
          body: { message: `only ${product.stock} ${product.sku} left, ${wanted} wanted` },
        };
      }
      product.stock -= wanted;
      reservations++;
      return {
        status: 201,
        body: {
          reservationId: `r_${reservations}`,
          sku: product.sku,
          quantity: wanted,
          unitPrice: product.price,
        },
      };
    }
    return { status: 404, body: { message: `inventory API has no route ${method} ${url.pathname}` } };
  };
}
