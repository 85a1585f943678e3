import { Controller, Get, Query } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { CircuitState, ManualClock } from '../../lib';
import { RedisStateStore } from '../../lib/integrations/redis';
import {
  CircuitBreakerHealthIndicator,
  type CircuitBreakerHealthOptions,
} from '../../lib/integrations/terminus';
import { RedisServer } from '../redis/support/redis-server';
import { PLATFORMS, bootApp, eventually, request, type RunningApp } from './support';

class Boom extends Error {}

/** `GET /health?names=a,b&downOn=...`: the breakers' health through Terminus. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly breakers: CircuitBreakerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(@Query('names') names?: string, @Query('downOn') downOn?: CircuitBreakerHealthOptions['downOn']) {
    const options: CircuitBreakerHealthOptions = {};
    if (names !== undefined) options.names = names.split(',');
    if (downOn !== undefined) options.downOn = downOn;
    return this.health.check([() => this.breakers.isHealthy('breakers', options)]);
  }
}

interface HealthBody {
  status: 'ok' | 'error';
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details: Record<string, Record<string, unknown>>;
}

async function health(app: RunningApp, query = ''): Promise<{ status: number; body: HealthBody }> {
  const res = await request(`${app.url}/health${query}`);
  return { status: res.status, body: JSON.parse(res.body) as HealthBody };
}

describe.each(PLATFORMS)('CircuitBreakerHealthIndicator behind a real /health route on %s', (platform) => {
  let running: RunningApp | undefined;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(0);
    running = await bootApp(
      platform,
      {
        clock,
        defaults: { failureThreshold: 1, halfOpenAfterMs: 20_000, successThreshold: 2, halfOpenMaxCalls: 2 },
        breakers: { payment: {}, inventory: {}, search: {} },
        metrics: { promRegistry: false },
      },
      {
        imports: [TerminusModule],
        controllers: [HealthController],
        providers: [CircuitBreakerHealthIndicator],
      },
    );
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  const trip = (name: string) =>
    expect(() =>
      running!.registry.get(name).executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);

  it('is up while every breaker is closed', async () => {
    const { status, body } = await health(running!);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details.breakers).toEqual({
      status: 'up',
      checked: 3,
      open: [],
      halfOpen: [],
      manual: [],
      degraded: [],
    });
  });

  it('is up by default while breakers are open, naming them and their retryAfterMs in the details', async () => {
    trip('payment');
    clock.advance(5_000);
    running!.registry.get('search').forceOpen();
    const { status, body } = await health(running!);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info?.breakers).toMatchObject({
      status: 'up',
      message: '2 circuit breaker(s) open: payment, search',
      open: [
        { name: 'payment', state: CircuitState.OPEN, retryAfterMs: 15_000 },
        { name: 'search', state: CircuitState.FORCED_OPEN, retryAfterMs: 0 },
      ],
    });
    expect((await health(running!, '?downOn=never')).status).toBe(200);
  });

  it("with downOn 'open', is down with the names and retryAfterMs of OPEN and FORCED_OPEN breakers", async () => {
    trip('payment');
    clock.advance(5_000);
    running!.registry.get('search').forceOpen();
    const { status, body } = await health(running!, '?downOn=open');
    expect(status).toBe(503);
    expect(body.status).toBe('error');
    expect(body.error?.breakers).toMatchObject({
      status: 'down',
      message: '2 circuit breaker(s) open: payment, search',
      open: [
        { name: 'payment', state: CircuitState.OPEN, retryAfterMs: 15_000 },
        { name: 'search', state: CircuitState.FORCED_OPEN, retryAfterMs: 0 },
      ],
    });
  });

  it('is up with details while a breaker is HALF_OPEN', async () => {
    trip('inventory');
    clock.advance(20_000);
    expect(running!.registry.get('inventory').executeSync(() => 'probe')).toBe('probe');
    expect(running!.registry.get('inventory').state).toBe(CircuitState.HALF_OPEN);
    const { status, body } = await health(running!);
    expect(status).toBe(200);
    expect(body.info?.breakers).toMatchObject({
      status: 'up',
      halfOpen: [{ name: 'inventory', halfOpenInFlight: 0 }],
    });
  });

  it("with downOn 'any-not-closed', is down for HALF_OPEN and DISABLED (manual) breakers too", async () => {
    trip('inventory');
    clock.advance(20_000);
    running!.registry.get('inventory').executeSync(() => 'probe');
    running!.registry.get('search').disable();
    const { status, body } = await health(running!, '?downOn=any-not-closed');
    expect(status).toBe(503);
    expect(body.error?.breakers).toMatchObject({
      status: 'down',
      message: '2 circuit breaker(s) not closed: inventory, search',
      halfOpen: [{ name: 'inventory' }],
      manual: [{ name: 'search', state: CircuitState.DISABLED }],
    });
    expect((await health(running!)).status).toBe(200);
  });

  it('checks only the breakers named in names', async () => {
    trip('payment');
    const { status, body } = await health(running!, '?names=inventory,search');
    expect(status).toBe(200);
    expect(body.info?.breakers).toMatchObject({ status: 'up', checked: 2, open: [] });
    expect((await health(running!, '?names=payment&downOn=open')).status).toBe(503);
  });

  it('refuses a name the registry does not know rather than report it healthy', async () => {
    const indicator = running!.app.get(CircuitBreakerHealthIndicator);
    expect(() => indicator.isHealthy('breakers', { names: ['paymnet'] })).toThrow(
      /no circuit breaker named "paymnet"; known: "payment", "inventory", "search"/,
    );
    expect(() => indicator.isHealthy('breakers', { downOn: 'half' as never })).toThrow(
      /downOn must be 'never', 'open' or 'any-not-closed', got "half"/,
    );
    expect(() => indicator.isHealthy('breakers', { name: ['x'] } as never)).toThrow(/unknown option "name"/);
    expect((await health(running!, '?names=paymnet')).status).toBe(500);
  });
});

describe('CircuitBreakerHealthIndicator with a shared store', () => {
  let redis: RedisServer | undefined;
  let store: RedisStateStore | undefined;
  let running: RunningApp | undefined;

  afterEach(async () => {
    await running?.close();
    await store?.close();
    await redis?.stop();
  });

  it('shows breakers whose store is degraded (Redis gone) in the details', async () => {
    redis = await RedisServer.start();
    store = new RedisStateStore({
      connection: redis.url,
      prefix: `health-${process.pid}:`,
      logger: { warn: () => undefined },
    });
    running = await bootApp(
      'express',
      { store, breakers: { payment: {}, inventory: {} }, metrics: { promRegistry: false } },
      {
        imports: [TerminusModule],
        controllers: [HealthController],
        providers: [CircuitBreakerHealthIndicator],
      },
    );
    const registry = running.registry;

    await eventually(() => registry.get('payment').snapshot().store === 'shared', 'the store is connected');
    expect((await health(running)).body.details.breakers).toMatchObject({ status: 'up', degraded: [] });

    await redis.kill();
    await eventually(
      () => registry.get('payment').snapshot().store === 'degraded',
      'the store notices the outage',
    );
    const { status, body } = await health(running);
    expect(status).toBe(200);
    expect(body.details.breakers).toMatchObject({ status: 'up', degraded: ['payment', 'inventory'] });
  });
});
