// The transport packages are optional: an HTTP-only application without any of them installed boots, maps
// open circuits, timeouts and full bulkheads to HTTP, and never asks for them. Their absence is simulated
// the way Node reports it (MODULE_NOT_FOUND from require).
import { Controller, Get, Injectable } from '@nestjs/common';
import request from 'supertest';
import { CircuitBreaker, CircuitBreakerModule, CircuitBreakerRegistry, ManualClock } from '../../lib';
import { loadOptionalPackage } from '../../lib/nest/transports/optional-package';
import { bootApp, PLATFORMS } from '../nest/support/apps';

const TRANSPORT_PACKAGES = [
  '@nestjs/microservices',
  '@nestjs/websockets',
  '@nestjs/graphql',
  'graphql',
  '@grpc/grpc-js',
] as const;

// jest.mock factories are hoisted above every declaration: each throws on its own.
jest.mock('@nestjs/microservices', () => {
  throw Object.assign(new Error("Cannot find module '@nestjs/microservices'"), { code: 'MODULE_NOT_FOUND' });
});
jest.mock('@nestjs/websockets', () => {
  throw Object.assign(new Error("Cannot find module '@nestjs/websockets'"), { code: 'MODULE_NOT_FOUND' });
});
jest.mock('@nestjs/graphql', () => {
  throw Object.assign(new Error("Cannot find module '@nestjs/graphql'"), { code: 'MODULE_NOT_FOUND' });
});
jest.mock('graphql', () => {
  throw Object.assign(new Error("Cannot find module 'graphql'"), { code: 'MODULE_NOT_FOUND' });
});
jest.mock('@grpc/grpc-js', () => {
  throw Object.assign(new Error("Cannot find module '@grpc/grpc-js'"), { code: 'MODULE_NOT_FOUND' });
});

@Injectable()
class Orders {
  @CircuitBreaker('orders')
  list(): string[] {
    return ['o1'];
  }
}

@Controller()
class OrdersController {
  constructor(private readonly orders: Orders) {}
  @Get('orders')
  list(): string[] {
    return this.orders.list();
  }
}

describe('without the transport packages installed', () => {
  it.each(TRANSPORT_PACKAGES)('cannot load %s here (the simulation holds)', (name) => {
    expect(() => require(name)).toThrow(`Cannot find module '${name}'`);
  });

  it.each(PLATFORMS)('boots on %s and answers an open circuit with 503', async (platform) => {
    const app = await bootApp(platform, {
      imports: [CircuitBreakerModule.forRoot({ clock: new ManualClock(), http: false })],
      controllers: [OrdersController],
      providers: [Orders],
    });
    try {
      await request(app.getHttpServer()).get('/orders').expect(200, ['o1']);
      app.get(CircuitBreakerRegistry).get('orders').forceOpen();
      const res = await request(app.getHttpServer()).get('/orders').expect(503);
      expect(res.body).toMatchObject({ breaker: 'orders', state: 'forced_open' });
    } finally {
      await app.close();
    }
  });

  it('names the missing package when a transport that needs it is met', () => {
    expect(() => loadOptionalPackage('graphql', 'mapping an open circuit in a GraphQL resolver')).toThrow(
      'nestjs-breaker: mapping an open circuit in a GraphQL resolver needs the package "graphql", ' +
        'which is not installed (npm install graphql)',
    );
  });
});
