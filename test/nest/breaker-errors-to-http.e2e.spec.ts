// CallTimeoutError -> 504 and BulkheadFullError -> 503 + Retry-After: 1 at the HTTP layer, on Express and Fastify,
// from handlers (through the interceptor) and from guards (through the filter), with no stack trace logged.
import {
  Controller,
  Get,
  Injectable,
  UseGuards,
  type CanActivate,
  type INestApplication,
} from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import { CircuitBreaker, CircuitBreakerModule, CircuitOpenError, CircuitState, ManualClock } from '../../lib';
import { bootApp, PLATFORMS, RecordingLogger, type Platform } from './support/apps';

/** A downstream the test answers by hand: each call waits until `release()`. */
class HeldDownstream {
  private pending: (() => void)[] = [];
  private onHeld: (() => void) | undefined;
  call(): Promise<string> {
    return new Promise((resolve) => {
      this.pending.push(() => resolve('done'));
      this.onHeld?.();
    });
  }
  /** Resolves once a call is held (it reached the downstream). */
  whenHeld(): Promise<void> {
    if (this.pending.length > 0) return Promise.resolve();
    return new Promise((resolve) => (this.onHeld = resolve));
  }
  release(): void {
    this.onHeld = undefined;
    for (const resolve of this.pending.splice(0)) resolve();
  }
}

const downstream = new HeldDownstream();

@Injectable()
class Quotes {
  // Real timers: callTimeoutMs is the one option that may use them (API.md, Core).
  @CircuitBreaker('quotes')
  quote(): Promise<string> {
    return downstream.call();
  }

  @CircuitBreaker('reports')
  report(): Promise<string> {
    return downstream.call();
  }
}

@Injectable()
class QuoteGuard implements CanActivate {
  constructor(private readonly quotes: Quotes) {}
  async canActivate(): Promise<boolean> {
    return (await this.quotes.quote()) === 'done';
  }
}

@Controller()
class QuotesController {
  constructor(private readonly quotes: Quotes) {}

  @Get('quote')
  quote(): Promise<string> {
    return this.quotes.quote();
  }

  @Get('guarded')
  @UseGuards(QuoteGuard)
  guarded(): string {
    return 'in';
  }

  @Get('report')
  report(): Promise<string> {
    return this.quotes.report();
  }
}

async function boot(
  platform: Platform,
  logger: RecordingLogger,
  mapOpenErrors?: { http: boolean },
): Promise<INestApplication<App>> {
  return bootApp(
    platform,
    {
      imports: [
        CircuitBreakerModule.forRoot({
          clock: new ManualClock(),
          ...(mapOpenErrors === undefined ? {} : { mapOpenErrors }),
          breakers: {
            quotes: { callTimeoutMs: 20, failureThreshold: 100 },
            reports: { bulkhead: { maxConcurrent: 1, maxQueue: 0 } },
          },
        }),
      ],
      controllers: [QuotesController],
      providers: [Quotes, QuoteGuard],
    },
    logger,
  );
}

afterEach(() => downstream.release());

describe.each(PLATFORMS)('timeouts and full bulkheads at the HTTP layer (%s)', (platform) => {
  it('answers a call timeout with 504 and the breaker body, logging no error', async () => {
    const logger = new RecordingLogger();
    const app = await boot(platform, logger);
    try {
      const res = await request(app.getHttpServer()).get('/quote').expect(504);
      expect(res.body).toEqual({
        statusCode: 504,
        error: 'Gateway Timeout',
        message: 'call through circuit breaker "quotes" timed out after 20 ms',
        breaker: 'quotes',
        state: 'closed',
      });
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.headers['x-circuit-breaker-state']).toBeUndefined(); // the route itself names no breaker
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('answers a call timeout met in a guard with the same 504', async () => {
    const logger = new RecordingLogger();
    const app = await boot(platform, logger);
    try {
      const res = await request(app.getHttpServer()).get('/guarded').expect(504);
      expect(res.body).toMatchObject({ statusCode: 504, breaker: 'quotes', state: 'closed' });
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('answers a full bulkhead with 503 and Retry-After: 1, then serves again once the slot frees', async () => {
    const logger = new RecordingLogger();
    const app = await boot(platform, logger);
    try {
      const server = app.getHttpServer();
      const first = request(server)
        .get('/report')
        .then((r) => r);
      // The first request holds the only slot once it reached the downstream.
      await downstream.whenHeld();
      const rejected = await request(server).get('/report').expect(503);
      expect(rejected.headers['retry-after']).toBe('1');
      expect(rejected.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'bulkhead of circuit breaker "reports" rejected the call: its slots and queue are full',
        breaker: 'reports',
        state: 'closed',
      });
      downstream.release();
      expect((await first).status).toBe(200);
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('leaves timeouts to Nest’s default 500 with mapOpenErrors: { http: false }', async () => {
    const logger = new RecordingLogger();
    const app = await boot(platform, logger, { http: false });
    try {
      await request(app.getHttpServer()).get('/quote').expect(500);
    } finally {
      await app.close();
    }
  });
});

describe('throttled rejections at the HTTP layer', () => {
  it('answer 503 without Retry-After when the error says reason "throttled"', async () => {
    @Controller()
    class ThrottledController {
      @Get('shed')
      shed(): never {
        // The shape the throttle's CallThrottledError has (a CircuitOpenError with reason 'throttled').
        throw Object.assign(new CircuitOpenError('search', CircuitState.OPEN, 0), { reason: 'throttled' });
      }
    }
    const app = await bootApp('express', {
      imports: [CircuitBreakerModule.forRoot({ http: false })],
      controllers: [ThrottledController],
    });
    try {
      const res = await request(app.getHttpServer()).get('/shed').expect(503);
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.body).toMatchObject({ statusCode: 503, breaker: 'search', state: 'open' });
    } finally {
      await app.close();
    }
  });
});
