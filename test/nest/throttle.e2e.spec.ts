// The adaptive throttle in a real Nest app on Express and Fastify, against a real failing downstream:
// refused calls answer 503 without Retry-After, fallbacks serve, snapshots and metrics show it.
import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types';
import {
  CallThrottledError,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib';
import { bootApp, PLATFORMS, type Platform } from './support/apps';
import { startDownstream, type Downstream } from './support/downstream';

let downstream: Downstream;

@Injectable()
class SearchClient {
  @CircuitBreaker('search')
  async find(): Promise<unknown> {
    const res = await fetch(`${downstream.url}/search`);
    if (!res.ok) throw new Error(`search answered ${res.status}`);
    return res.json();
  }

  @CircuitBreaker('search', { fallback: 'fromCache' })
  async findOrCached(): Promise<unknown> {
    return this.find();
  }

  fromCache(error: unknown): unknown {
    return { cached: true, throttled: error instanceof CallThrottledError };
  }
}

@Controller()
class SearchController {
  constructor(private readonly search: SearchClient) {}
  @Get('search')
  find(): Promise<unknown> {
    return this.search.find();
  }
  @Get('search-or-cached')
  findOrCached(): Promise<unknown> {
    return this.search.findOrCached();
  }
}

async function boot(platform: Platform): Promise<INestApplication<App>> {
  return bootApp(platform, {
    imports: [
      CircuitBreakerModule.forRoot({
        clock: new ManualClock(),
        random: () => 0, // refuses every call whose probability is above 0
        breakers: { search: { failureThreshold: Infinity, throttle: { k: 2, windowMs: 60_000 } } },
      }),
    ],
    controllers: [SearchController],
    providers: [SearchClient],
  });
}

beforeAll(async () => {
  downstream = await startDownstream();
});
afterAll(() => downstream.close());

describe.each(PLATFORMS)('adaptive throttle over HTTP (%s)', (platform) => {
  it('answers a throttled call with 503 and no Retry-After, without reaching the downstream', async () => {
    const app = await boot(platform);
    try {
      downstream.mode = 'fail';
      const server = app.getHttpServer();
      await request(server).get('/search').expect(500); // no history: runs, and fails
      const hits = downstream.hits;
      const res = await request(server).get('/search').expect(503);
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message:
          'circuit breaker "search" throttled the call (refusing 50.0% of calls: the downstream accepts too few)',
        breaker: 'search',
        state: 'closed',
      });
      expect(downstream.hits).toBe(hits);

      // A route with a fallback serves it, told why.
      await request(server).get('/search-or-cached').expect(200, { cached: true, throttled: true });
      expect(downstream.hits).toBe(hits);

      const snapshot = app.get(CircuitBreakerRegistry).get('search').snapshot();
      expect(snapshot).toMatchObject({ state: 'closed', throttledCalls: 2, rejectedCalls: 2, fallbacks: 1 });
      const shown = await request(server).get('/circuit-breakers/search').expect(200);
      expect(shown.body).toMatchObject({ throttledCalls: 2, throttleProbability: 3 / 4 });
      const metrics = await request(server).get('/circuit-breakers/metrics').expect(200);
      expect(metrics.text).toContain('circuit_breaker_throttle_probability{name="search"} 0.75');
      expect(metrics.text).toContain('circuit_breaker_calls_total{name="search",kind="throttled"} 2');
    } finally {
      await app.close();
    }
  });
});

describe('forRoot({ random })', () => {
  it('fails bootstrap with a clear error when random is not a function', async () => {
    const compiling = Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ random: 0.5 as unknown as () => number })],
    }).compile();
    await expect(compiling).rejects.toThrow(
      'random must be a function returning a number in [0, 1), got 0.5',
    );
  });
});
