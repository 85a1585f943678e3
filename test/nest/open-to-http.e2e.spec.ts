// CircuitOpenError at the HTTP layer: 503 from handlers and guards, user filters, mapOpenToHttp: false.
import {
  Catch,
  Controller,
  Get,
  HttpException,
  Injectable,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import request from 'supertest';
import type { App } from 'supertest/types';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  CircuitOpenExceptionFilter,
  ManualClock,
} from '../../lib';
import { bootApp, PLATFORMS, type Platform } from './support/apps';

@Injectable()
class AuthService {
  @CircuitBreaker('auth')
  async verify(): Promise<boolean> {
    return true;
  }
}

/** A guard whose own dependency is behind a breaker: an open circuit surfaces before any interceptor runs. */
@Injectable()
class AuthGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}
  canActivate(): Promise<boolean> {
    return this.auth.verify();
  }
}

@Controller()
class ProtectedController {
  @Get('guarded')
  @UseGuards(AuthGuard)
  guarded(): string {
    return 'in';
  }

  @Get('plain-error')
  plainError(): never {
    throw new Error('not a breaker error');
  }
}

/** An application's own filter for HttpExceptions: it sees the 503 like any other HttpException. */
@Catch(HttpException)
class HouseStyleFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(exception: HttpException, host: ArgumentsHost): void {
    const response: unknown = host.switchToHttp().getResponse();
    const cause = exception.cause;
    this.adapterHost.httpAdapter.reply(
      response,
      {
        house: true,
        status: exception.getStatus(),
        breaker: cause instanceof CircuitOpenError ? cause.breakerName : null,
      },
      exception.getStatus(),
    );
  }
}

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

async function boot(
  platform: Platform,
  mapOpenToHttp?: boolean,
  configure?: (app: INestApplication<App>) => void,
): Promise<INestApplication<App>> {
  const app = await bootApp(
    platform,
    {
      imports: [
        CircuitBreakerModule.forRoot({
          clock: new ManualClock(),
          mapOpenToHttp,
          breakers: { auth: {}, orders: {} },
        }),
      ],
      controllers: [ProtectedController, OrdersController],
      providers: [AuthService, AuthGuard, Orders],
    },
    undefined,
    configure,
  );
  app.get(CircuitBreakerRegistry).get('auth').forceOpen();
  app.get(CircuitBreakerRegistry).get('orders').forceOpen();
  return app;
}

describe.each(PLATFORMS)('open circuits at the HTTP layer (%s)', (platform) => {
  it('answers 503 when the open circuit is met in a guard, before any interceptor', async () => {
    const app = await boot(platform);
    try {
      const res = await request(app.getHttpServer()).get('/guarded').expect(503);
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'circuit breaker "auth" is forced open',
        breaker: 'auth',
        state: 'forced_open',
      });
      app.get(CircuitBreakerRegistry).get('auth').reset();
      await request(app.getHttpServer()).get('/guarded').expect(200, 'in');
      await request(app.getHttpServer()).get('/plain-error').expect(500);
    } finally {
      await app.close();
    }
  });

  it('hands the 503 to the application’s own HttpException filter, with the CircuitOpenError as cause', async () => {
    const app = await boot(platform, undefined, (a) =>
      a.useGlobalFilters(new HouseStyleFilter(a.get(HttpAdapterHost))),
    );
    try {
      const res = await request(app.getHttpServer()).get('/orders').expect(503);
      expect(res.body).toEqual({ house: true, status: 503, breaker: 'orders' });
    } finally {
      await app.close();
    }
  });

  it('leaves open circuits to Nest’s default handling with mapOpenToHttp: false', async () => {
    const app = await boot(platform, false);
    try {
      const fromHandler = await request(app.getHttpServer()).get('/orders').expect(500);
      expect(fromHandler.headers['retry-after']).toBeUndefined();
      await request(app.getHttpServer()).get('/guarded').expect(500);
    } finally {
      await app.close();
    }
  });

  it('is exported for use without the module-wide registration', async () => {
    const app = await bootApp(
      platform,
      {
        imports: [CircuitBreakerModule.forRoot({ mapOpenToHttp: false, http: false })],
        controllers: [OrdersController],
        providers: [Orders],
      },
      undefined,
      (a) => a.useGlobalFilters(new CircuitOpenExceptionFilter(a.get(HttpAdapterHost))),
    );
    try {
      app.get(CircuitBreakerRegistry).get('orders').forceOpen();
      await request(app.getHttpServer())
        .get('/orders')
        .expect(503, /"breaker":"orders"/);
    } finally {
      await app.close();
    }
  });
});
