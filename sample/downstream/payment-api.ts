import type { JsonHandler, JsonReply } from './chaos-server';

interface Charge {
  chargeId: string;
  orderId: string;
  amount: number;
  chargedAt: string;
}

/** The fake payment provider: `POST /charges` takes money, `GET /charges/:orderId` looks a charge up. */
export function paymentApi(): JsonHandler {
  const charges = new Map<string, Charge>();
  return (method, url, body): JsonReply => {
    if (method === 'POST' && url.pathname === '/charges') {
      const { orderId, amount } = (body ?? {}) as Partial<Charge>;
      if (typeof orderId !== 'string' || typeof amount !== 'number' || !(amount > 0)) {
        return { status: 400, body: { message: 'a charge needs orderId (string) and amount (> 0)' } };
      }
      const charge = {
        chargeId: `ch_${charges.size + 1}`,
        orderId,
        amount,
        chargedAt: new Date().toISOString(),
      };
      charges.set(orderId, charge);
      return { status: 201, body: charge };
    }
    const match = /^\/charges\/([^/]+)$/.exec(url.pathname);
    if (method === 'GET' && match !== null) {
      const charge = charges.get(decodeURIComponent(match[1]));
      return charge === undefined
        ? { status: 404, body: { message: `no charge for order ${match[1]}` } }
        : { status: 200, body: charge };
    }
    return { status: 404, body: { message: `payment API has no route ${method} ${url.pathname}` } };
  };
}
