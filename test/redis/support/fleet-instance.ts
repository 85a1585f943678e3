/*
 * One instance of a fleet, run as a child process by the fleet specs: a real Nest app with
 * CircuitBreakerModule.forRoot({ store: new RedisStateStore(...) }), calling a real HTTP downstream.
 *   GET  /call/:name                          -> 200 { ok, waitedMs } | 503 { open, waitedMs } | 502 { error, waitedMs }
 *   GET  /state/:name                         -> the breaker's snapshot, the store's status and warning count
 *   POST /circuit-breakers/:name/{force-open,disable,reset}   (the module's own control routes)
 * `waitedMs` is the time between the call entering the breaker and the breaker deciding (running fn or
 * rejecting): what a call spends waiting on the store. State changes go to the parent over IPC with the
 * real time they happened at, so the parent can measure propagation across processes.
 * Env: REDIS_URL, DOWNSTREAM (base URL), BREAKERS (JSON), STORE (JSON RedisStateStore options),
 * CLOCK_OFFSET_MS (this instance's clock runs ahead by that much), LABEL.
 */
import 'reflect-metadata';
import { Controller, Get, HttpException, Inject, Module, Param, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { CircuitBreakerModule, CircuitBreakerRegistry, CircuitOpenError } from '../../../lib';
import type { BreakerOptions, Clock } from '../../../lib/core';
import { RedisStateStore } from '../../../lib/integrations/redis';

const offset = Number(process.env.CLOCK_OFFSET_MS ?? 0);
const clock: Clock = { now: () => Date.now() + offset };
const breakers = JSON.parse(process.env.BREAKERS ?? '{}') as Record<string, BreakerOptions>;
const downstream = process.env.DOWNSTREAM as string;
const warnings: string[] = [];
const store = new RedisStateStore({
  connection: process.env.REDIS_URL,
  logger: { warn: (m) => void warnings.push(m) },
  ...(JSON.parse(process.env.STORE ?? '{}') as object),
});

@Controller()
class FleetController {
  constructor(@Inject(CircuitBreakerRegistry) private readonly registry: CircuitBreakerRegistry) {}

  @Get('call/:name')
  async call(@Param('name') name: string): Promise<unknown> {
    const entered = performance.now();
    let decided = -1;
    try {
      const status = await this.registry.get(name).executePromise(async () => {
        decided = performance.now();
        const response = await fetch(`${downstream}/${encodeURIComponent(name)}`);
        await response.arrayBuffer();
        if (response.status >= 500) throw new Error(`downstream answered ${response.status}`);
        return response.status;
      });
      return { ok: true, status, waitedMs: decided - entered };
    } catch (error) {
      const waitedMs = (decided < 0 ? performance.now() : decided) - entered;
      if (error instanceof CircuitOpenError)
        throw new HttpException({ open: true, state: error.state, waitedMs }, 503);
      throw new HttpException({ error: (error as Error).message, waitedMs }, 502);
    }
  }

  @Get('state/:name')
  state(@Param('name') name: string): unknown {
    return { ...this.registry.get(name).snapshot(), warnings: warnings.length, storeStatus: store.status };
  }
}

@Module({
  imports: [
    CircuitBreakerModule.forRoot({
      breakers,
      store,
      clock,
      http: { control: true, allowUnguardedControl: true },
    }),
  ],
  controllers: [FleetController],
})
class FleetAppModule {}

async function main(): Promise<INestApplication> {
  const app = await NestFactory.create(FleetAppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const registry = app.get(CircuitBreakerRegistry);
  const subscription = registry.stateChanges$.subscribe((event) => {
    process.send?.({
      type: 'state',
      name: event.name,
      from: event.from,
      to: event.to,
      reason: event.reason,
      realAt: Date.now(),
    });
  });
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'close') return;
    subscription.unsubscribe();
    // app.close() closes the registry and the store (and the store the connections it created).
    void app.close().then(() => process.disconnect());
  });
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  process.send?.({ type: 'ready', port });
  return app;
}

void main();
