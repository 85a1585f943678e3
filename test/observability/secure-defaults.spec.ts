// The secure defaults of the breaker routes (issue 16), each on Express and Fastify.
import {
  Global,
  Injectable,
  Module,
  type CanActivate,
  type ExecutionContext,
  type LoggerService,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Subject, NEVER } from 'rxjs';
import {
  BreakerConfigError,
  CircuitBreakerModule,
  ManualClock,
  type BreakerEvent,
  type CircuitBreakerModuleOptions,
} from '../../lib';
import { breakerEventStream } from '../../lib/http/event-stream';
import { CircuitBreakerObservability } from '../../lib/http/observability.service';
import { PLATFORMS, bootApp, eventually, openSse, request, type Platform, type RunningApp } from './support';

/** An error whose message holds what must not leave the process. */
class DatabaseError extends Error {
  override name = 'DatabaseError';
  readonly code = 'ECONNREFUSED';
}
const SECRET = 'connect ECONNREFUSED 10.0.3.4:5432 (user=shop password=hunter2)';

@Injectable()
class OpsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return req.headers['x-ops'] === 'yes';
  }
}

/** The README's guard: a header token read from an injected (global) config service. */
@Injectable()
class OpsConfig {
  readonly token = 's3cret';
}

@Global()
@Module({ providers: [OpsConfig], exports: [OpsConfig] })
class OpsConfigModule {}

@Injectable()
class OpsTokenGuard implements CanActivate {
  constructor(private readonly config: OpsConfig) {}
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return req.headers['x-ops-token'] === this.config.token;
  }
}

describe('http.control without guards', () => {
  it('fails at forRoot with a message naming the routes, the fix and the opt-out', () => {
    expect(() => CircuitBreakerModule.forRoot({ http: { control: true } })).toThrow(BreakerConfigError);
    expect(() => CircuitBreakerModule.forRoot({ http: { control: true, guards: [] } })).toThrow(
      /http\.control: true mounts POST \/:name\/force-open, \/disable and \/reset.*pass http\.guards.*http\.allowUnguardedControl: true/,
    );
    expect(() =>
      CircuitBreakerModule.forRootAsync({ http: { control: true }, useFactory: () => ({}) }),
    ).toThrow(/http\.allowUnguardedControl/);
  });

  it('rejects non-boolean security flags, naming the option', () => {
    for (const flag of ['allowUnguardedControl', 'exposeErrorMessages', 'allowUnguarded'])
      expect(() => CircuitBreakerModule.forRoot({ http: { [flag]: 'yes' } as never })).toThrow(
        `CircuitBreakerModule: http.${flag} must be true or false, got "yes"`,
      );
  });
});

describe.each(PLATFORMS)('secure defaults on %s', (platform: Platform) => {
  let running: RunningApp | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('fails bootstrap on a bad events.maxClients, naming the option and the value', async () => {
    for (const bad of [0, 1.5, -1, '10'])
      await expect(bootApp(platform, { events: { maxClients: bad as number } })).rejects.toThrow(
        `CircuitBreakerModule: events.maxClients must be a whole number >= 1, got ${typeof bad === 'string' ? `"${bad}"` : bad}`,
      );
  });

  it('mounts unguarded control routes only with allowUnguardedControl: true', async () => {
    running = await bootApp(platform, {
      breakers: { payment: {} },
      http: { control: true, allowUnguardedControl: true },
      metrics: { promRegistry: false },
    });
    const res = await request(`${running.url}/circuit-breakers/payment/force-open`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(running.registry.get('payment').state).toBe('forced_open');
  });

  it('mounts guarded control routes without the opt-out, and the guard decides', async () => {
    running = await bootApp(
      platform,
      {
        breakers: { payment: {} },
        http: { control: true, guards: [OpsGuard] },
        metrics: { promRegistry: false },
      },
      { providers: [OpsGuard] },
    );
    const url = `${running.url}/circuit-breakers/payment/force-open`;
    expect((await request(url, { method: 'POST' })).status).toBe(403);
    expect(running.registry.get('payment').state).toBe('closed');
    expect((await request(url, { method: 'POST', headers: { 'x-ops': 'yes' } })).status).toBe(200);
    expect(running.registry.get('payment').state).toBe('forced_open');
  });

  it("protects every route with the README's guard, whose dependency comes from a global module", async () => {
    running = await bootApp(
      platform,
      {
        breakers: { payment: {} },
        http: { guards: [OpsTokenGuard], control: true },
        metrics: { promRegistry: false },
      },
      { imports: [OpsConfigModule] },
    );
    const routes: [string, string][] = [
      ['GET', ''],
      ['GET', '/payment'],
      ['GET', '/metrics'],
      ['GET', '/events'],
      ['GET', '/dashboard'],
      ['GET', '/payment/events'],
      ['POST', '/payment/force-open'],
    ];
    for (const [method, path] of routes) {
      const denied = await request(`${running.url}/circuit-breakers${path}`, { method });
      expect({ path, status: denied.status }).toEqual({ path, status: 403 });
    }
    expect(running.registry.get('payment').state).toBe('closed');
    const allowed = await request(`${running.url}/circuit-breakers/payment/force-open`, {
      method: 'POST',
      headers: { 'x-ops-token': 's3cret' },
    });
    expect(allowed.status).toBe(200);
    expect(running.registry.get('payment').state).toBe('forced_open');
  });

  async function failOnce(options: CircuitBreakerModuleOptions): Promise<unknown[]> {
    running = await bootApp(platform, {
      clock: new ManualClock(1_000),
      breakers: { orders: { failureThreshold: 100 } },
      metrics: { promRegistry: false },
      ...options,
    });
    const orders = running.registry.get('orders');
    expect(() =>
      orders.executeSync(() => {
        throw new DatabaseError(SECRET);
      }),
    ).toThrow(DatabaseError);
    expect(() =>
      orders.executeSync(() => {
        throw Object.assign(new Error(SECRET), { response: { status: 502 } });
      }),
    ).toThrow(SECRET);
    const res = await request(`${running.url}/circuit-breakers/orders/events`);
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { error?: unknown }[]).map((e) => e.error);
  }

  it("keeps error messages in the process by default: recent events show the error's type, code and status", async () => {
    const errors = await failOnce({});
    expect(errors).toEqual([
      { type: 'DatabaseError', code: 'ECONNREFUSED' },
      { type: 'Error', status: 502 },
    ]);
    expect(JSON.stringify(errors)).not.toContain('10.0.3.4');
  });

  it('sends error messages with http.exposeErrorMessages: true', async () => {
    const errors = await failOnce({ http: { exposeErrorMessages: true } });
    expect(errors).toEqual([
      { type: 'DatabaseError', code: 'ECONNREFUSED', message: SECRET },
      { type: 'Error', status: 502, message: SECRET },
    ]);
  });

  it('turns the (events.maxClients + 1)th event stream away with 503 and Retry-After, and admits one once a slot frees', async () => {
    running = await bootApp(platform, { events: { maxClients: 2 }, metrics: { promRegistry: false } });
    const url = `${running.url}/circuit-breakers/events`;
    const first = await openSse(url);
    const second = await openSse(url);
    expect([first.status, second.status]).toEqual([200, 200]);

    const third = await request(url, { headers: { accept: 'text/event-stream' } });
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('5');
    expect(third.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(third.body)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'too many event streams: at most 2 may be open at once (events.maxClients); retry in 5 s',
    });

    first.close();
    const observability = running.app.get(CircuitBreakerObservability);
    expect(observability.openStreams).toBe(2);
    await eventually(() => observability.openStreams === 1, 'the first stream is released');
    const fourth = await openSse(url);
    expect(fourth.status).toBe(200);
    second.close();
    fourth.close();
  });

  it('counts the default cap of 100 streams', async () => {
    running = await bootApp(platform, { metrics: { promRegistry: false } });
    const url = `${running.url}/circuit-breakers/events`;
    const clients = await Promise.all(Array.from({ length: 100 }, () => openSse(url)));
    expect(clients.every((c) => c.status === 200)).toBe(true);
    const refused = await request(url, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    for (const c of clients) c.close();
  });

  it('sends heartbeats to every stream from one shared timer', async () => {
    running = await bootApp(platform, { events: { heartbeatMs: 25 }, metrics: { promRegistry: false } });
    const url = `${running.url}/circuit-breakers/events`;
    // Heartbeat timers are the intervals of heartbeatMs (other timers of the server have other periods).
    const setInterval = jest.spyOn(global, 'setInterval');
    const heartbeatTimers = () => setInterval.mock.calls.filter(([, ms]) => ms === 25).length;
    try {
      const clients = [await openSse(url)];
      await clients[0].until((t) => t.includes(': heartbeat'));
      clients.push(...(await Promise.all(Array.from({ length: 20 }, () => openSse(url)))));
      await Promise.all(clients.map((c) => c.until((t) => t.includes(': heartbeat'))));
      // Twenty-one clients, all beating, from the one timer the first started (one per client would be 21).
      expect(heartbeatTimers()).toBe(1);
      for (const c of clients) c.close();
    } finally {
      setInterval.mockRestore();
    }
  });

  it('answers 400 JSON for a breaker name with control characters or over 200 characters', async () => {
    running = await bootApp(platform, {
      breakers: { payment: {} },
      http: { control: true, allowUnguardedControl: true },
      metrics: { promRegistry: false },
    });
    const cases: [string, string, RegExp][] = [
      ['GET', '/circuit-breakers/pay%0Ament', /invalid breaker name: must not contain control characters/],
      ['GET', '/circuit-breakers/%00/events', /invalid breaker name: must not contain control characters/],
      [
        'POST',
        '/circuit-breakers/pay%1Bment/reset',
        /invalid breaker name: must not contain control characters/,
      ],
    ];
    if (platform === 'express')
      // Fastify's router answers 414 itself for params over 100 characters, before any handler.
      cases.push([
        'GET',
        `/circuit-breakers/${'n'.repeat(201)}`,
        /must be 1 to 200 characters long \(it is 201\)/,
      ]);
    for (const [method, path, message] of cases) {
      const res = await request(`${running.url}${path}`, { method });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = JSON.parse(res.body) as { statusCode: number; message: string };
      expect(body.statusCode).toBe(400);
      expect(body.message).toMatch(message);
      expect(body.message.length).toBeLessThan(200);
    }
    expect(running.registry.names()).toEqual(['payment']);
    expect(running.registry.get('payment').state).toBe('closed');
  });
});

describe('the event stream (unit)', () => {
  const failing: BreakerEvent = {
    type: 'state_change',
    name: 'orders',
    at: 1,
    from: 'closed' as never,
    to: 'open' as never,
    error: new DatabaseError(SECRET),
  };

  async function first(exposeErrorMessages: boolean): Promise<unknown> {
    const transitions = new Subject<BreakerEvent>();
    const received: string[] = [];
    const subscription = breakerEventStream(transitions, {
      heartbeats: NEVER,
      until: NEVER,
      exposeErrorMessages,
    }).subscribe((m) => received.push(String(m.data)));
    transitions.next(failing);
    subscription.unsubscribe();
    return JSON.parse(received[0]) as unknown;
  }

  it('sends the error type and code, and the message only when exposed', async () => {
    expect(await first(false)).toMatchObject({ error: { type: 'DatabaseError', code: 'ECONNREFUSED' } });
    expect(JSON.stringify(await first(false))).not.toContain('10.0.3.4');
    expect(await first(true)).toMatchObject({ error: { message: SECRET } });
  });
});

describe.each(PLATFORMS)('the production warning about unguarded routes on %s', (platform: Platform) => {
  const saved = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = saved;
  });

  async function warningsAt(env: string, http: CircuitBreakerModuleOptions['http']): Promise<string[]> {
    process.env.NODE_ENV = env;
    const warnings: string[] = [];
    const logger: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => warnings.push(String(message)),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ http, metrics: { promRegistry: false } })],
      providers: [OpsGuard],
    }).compile();
    const app =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
        : moduleRef.createNestApplication({ logger });
    await app.listen(0, '127.0.0.1');
    await request(`${await app.getUrl()}/circuit-breakers`.replace('[::1]', '127.0.0.1'));
    await app.close();
    return warnings.filter((w) => w.includes('circuit breaker routes'));
  }

  it('warns once at bootstrap, naming every route and the option that silences it', async () => {
    const warnings = await warningsAt('production', {
      path: 'ops/cb',
      control: true,
      allowUnguardedControl: true,
    });
    expect(warnings).toHaveLength(1);
    for (const route of [
      'GET /ops/cb,',
      'GET /ops/cb/:name,',
      'GET /ops/cb/metrics',
      'GET /ops/cb/events',
      'GET /ops/cb/dashboard',
      'GET /ops/cb/:name/events',
      'POST /ops/cb/:name/{force-open,disable,reset}',
      'http.allowUnguarded: true',
      'http.guards',
    ])
      expect(warnings[0]).toContain(route);
  });

  it('stays silent with guards, with allowUnguarded: true, outside production, and with http: false', async () => {
    expect(await warningsAt('production', { guards: [OpsGuard] })).toEqual([]);
    expect(await warningsAt('production', { allowUnguarded: true })).toEqual([]);
    expect(await warningsAt('development', undefined)).toEqual([]);
    expect(await warningsAt('production', false)).toEqual([]);
  });
});
