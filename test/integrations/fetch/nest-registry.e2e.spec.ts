// breakerFetch built from the Nest CircuitBreakerRegistry inside a real app.
import { Controller, Get, Inject, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import {
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
  breakerFetch,
  type FetchFunction,
} from '../../../lib';
import { bootApp, PLATFORMS } from '../../nest/support/apps';
import { startDownstream, status, type Downstream } from '../downstream';

const FETCH = Symbol('FETCH');
const ORIGIN = Symbol('ORIGIN');

@Controller('quote')
class QuoteController {
  constructor(
    @Inject(FETCH) private readonly fetch: FetchFunction,
    @Inject(ORIGIN) private readonly origin: string,
  ) {}

  @Get()
  async quote(): Promise<{ status: number; body: string }> {
    const res = await this.fetch(`${this.origin}/quote`);
    return { status: res.status, body: await res.text() };
  }
}

describe.each(PLATFORMS)('breakerFetch with the Nest registry (%s)', (platform) => {
  let pricing: Downstream;
  let app: INestApplication<App>;

  beforeEach(async () => {
    pricing = await startDownstream();
    app = await bootApp(platform, {
      imports: [
        CircuitBreakerModule.forRoot({
          clock: new ManualClock(0),
          breakers: { pricing: { failureThreshold: 2, halfOpenAfterMs: 5_000 } },
        }),
      ],
      controllers: [QuoteController],
      providers: [
        { provide: ORIGIN, useValue: pricing.origin },
        {
          provide: FETCH,
          inject: [CircuitBreakerRegistry],
          useFactory: (registry: CircuitBreakerRegistry) => breakerFetch(registry, { name: () => 'pricing' }),
        },
      ],
    });
  });
  afterEach(async () => {
    await app.close();
    await pricing.close();
  });

  it('uses the configured breaker: failure statuses reach the route, then the open circuit maps to 503', async () => {
    const server = app.getHttpServer();
    pricing.respond(status(502, 'bad gateway'));
    for (let i = 0; i < 2; i++) {
      const res = await request(server).get('/quote').expect(200);
      expect(res.body).toEqual({ status: 502, body: 'bad gateway' });
    }
    const open = await request(server).get('/quote').expect(503);
    expect(open.headers['retry-after']).toBe('5');
    expect(open.body).toMatchObject({ breaker: 'pricing', state: 'open' });
    expect(pricing.requests).toBe(2);
  });
});
