// A WebSocket gateway (socket.io adapter) under an open circuit, with a real socket.io client.
import type { AddressInfo } from 'node:net';
import { UseFilters, UseInterceptors, type INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io, type Socket } from 'socket.io-client';
import {
  CircuitBreakerInterceptor,
  CircuitBreakerRegistry,
  CircuitOpenExceptionFilter,
  CircuitState,
} from '../../lib';
import { bootApp } from '../nest/support/apps';
import {
  HALF_OPEN_AFTER_MS,
  openPricing,
  PricingClient,
  PROMO_FALLBACK,
  pricingSetup,
  type PricingSetup,
} from './support/pricing';

// Nest applies no global enhancer to gateways: the interceptor (and the filter, for errors thrown by guards)
// are bound on the gateway itself.
@WebSocketGateway()
@UseInterceptors(CircuitBreakerInterceptor)
@UseFilters(CircuitOpenExceptionFilter)
class PricingGateway {
  constructor(private readonly pricing: PricingClient) {}

  @SubscribeMessage('price')
  price(@MessageBody() sku: string): Promise<number> {
    return this.pricing.price(sku);
  }

  @SubscribeMessage('promo')
  promo(): Promise<string> {
    return this.pricing.promo();
  }
}

describe('WebSocket gateway handlers under an open circuit', () => {
  let setup: PricingSetup;
  let app: INestApplication;
  let socket: Socket;

  beforeEach(async () => {
    setup = await pricingSetup();
    app = await bootApp('express', {
      imports: setup.imports,
      providers: [PricingGateway, ...setup.providers],
    });
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
    socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });

  afterEach(async () => {
    socket.disconnect();
    await app.close();
    await setup.downstream.close();
  });

  /** Sends `event` and resolves with the next `exception` event Nest emits to this client. */
  function exceptionFor(event: string, data: unknown): Promise<unknown> {
    const next = new Promise<unknown>((resolve) => socket.once('exception', resolve));
    socket.emit(event, data);
    return next;
  }

  it('emits the open-circuit object as Nest’s exception event, keeps fallbacks, and recovers through half-open', async () => {
    setup.downstream.mode = 'fail';
    for (let i = 0; i < 2; i++)
      expect(await exceptionFor('price', 'a')).toMatchObject({
        status: 'error',
        message: 'Internal server error',
      });
    const breaker = app.get(CircuitBreakerRegistry).get('pricing');
    expect(breaker.state).toBe(CircuitState.OPEN);
    const hits = setup.downstream.hits;

    expect(await exceptionFor('price', 'a')).toEqual(openPricing());
    expect(await socket.emitWithAck('promo', {})).toBe(PROMO_FALLBACK);
    expect(setup.downstream.hits).toBe(hits);

    setup.downstream.mode = 'ok';
    setup.clock.advance(HALF_OPEN_AFTER_MS);
    expect(await socket.emitWithAck('price', 'a')).toBe(42);
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(await socket.emitWithAck('promo', {})).toBe('two for one');
  });
});
