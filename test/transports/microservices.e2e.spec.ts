// Microservice handlers under an open circuit: a real TCP microservice and a Redis-transport microservice on a
// real redis-server, each called by a real ClientProxy.
import {
  Catch,
  Controller,
  Injectable,
  UseFilters,
  UseGuards,
  type CanActivate,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
  type INestMicroservice,
} from '@nestjs/common';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Transport,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import { CircuitBreakerRegistry, CircuitOpenError, CircuitState } from '../../lib';
import { RecordingLogger } from '../nest/support/apps';
import { freePort, RedisServer } from '../redis/support/redis-server';
import {
  HALF_OPEN_AFTER_MS,
  openPricing,
  PricingClient,
  PROMO_FALLBACK,
  pricingSetup,
  type PricingSetup,
} from './support/pricing';

/** What reached the event handler's own filter (an event has no reply: the error is the transport's). */
const eventErrors: unknown[] = [];
let onEventError: (() => void) | undefined;

@Catch()
class EventErrorRecorder implements ExceptionFilter {
  catch(error: unknown, _host: ArgumentsHost): Observable<never> {
    eventErrors.push(error);
    onEventError?.();
    return throwError(() => error);
  }
}

/** A guard whose own dependency is behind the breaker: the open circuit surfaces before any interceptor runs. */
@Injectable()
class PricedGuard implements CanActivate {
  constructor(private readonly pricing: PricingClient) {}
  async canActivate(): Promise<boolean> {
    return (await this.pricing.price('guard')) > 0;
  }
}

@Controller()
class PricingHandlers {
  constructor(private readonly pricing: PricingClient) {}

  @MessagePattern('price')
  price(sku: string): Promise<number> {
    return this.pricing.price(sku);
  }

  @MessagePattern('promo')
  promo(): Promise<string> {
    return this.pricing.promo();
  }

  @MessagePattern('guarded')
  @UseGuards(PricedGuard)
  guarded(): string {
    return 'in';
  }

  @EventPattern('price_changed')
  @UseFilters(EventErrorRecorder)
  priceChanged(sku: string): Promise<number> {
    return this.pricing.price(sku);
  }
}

type TransportCase = { name: string; transport: Transport.TCP | Transport.REDIS };
const TRANSPORTS: TransportCase[] = [
  { name: 'TCP', transport: Transport.TCP },
  { name: 'Redis', transport: Transport.REDIS },
];

describe.each(TRANSPORTS)('microservice handlers under an open circuit ($name)', ({ transport }) => {
  let redis: RedisServer | undefined;
  let setup: PricingSetup;
  let service: INestMicroservice | INestApplication;
  let client: ClientProxy;

  beforeAll(async () => {
    if (transport === Transport.REDIS) redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  async function microserviceOptions() {
    return transport === Transport.TCP
      ? { transport, options: { host: '127.0.0.1', port: await freePort() } }
      : { transport, options: { host: '127.0.0.1', port: redis!.port } };
  }

  async function start(moduleOptions?: Parameters<typeof pricingSetup>[0]): Promise<void> {
    setup = await pricingSetup(moduleOptions);
    const moduleRef = await Test.createTestingModule({
      imports: setup.imports,
      controllers: [PricingHandlers],
      providers: [...setup.providers, PricedGuard],
    })
      .setLogger(new RecordingLogger())
      .compile();
    const options = await microserviceOptions();
    service = moduleRef.createNestMicroservice<MicroserviceOptions>(options);
    service.useLogger(new RecordingLogger());
    await service.listen();
    client = ClientProxyFactory.create(options);
    await client.connect();
  }

  afterEach(async () => {
    await client.close();
    await service.close();
    await setup.downstream.close();
    eventErrors.length = 0;
  });

  const send = <T>(pattern: string, data: unknown): Promise<T> =>
    lastValueFrom(client.send<T>(pattern, data));

  async function trip(): Promise<void> {
    setup.downstream.mode = 'fail';
    for (let i = 0; i < 2; i++) await expect(send('price', 'a')).rejects.not.toHaveProperty('code');
    expect(service.get(CircuitBreakerRegistry).get('pricing').state).toBe(CircuitState.OPEN);
  }

  it('sends the ClientProxy the open-circuit object, keeps fallbacks, and recovers through half-open', async () => {
    await start();
    await trip();
    const hits = setup.downstream.hits;

    await expect(send('price', 'a')).rejects.toEqual(openPricing());
    await expect(send('guarded', {})).rejects.toEqual(openPricing()); // through the exception filter
    expect(await send('promo', {})).toBe(PROMO_FALLBACK);
    expect(setup.downstream.hits).toBe(hits);

    setup.downstream.mode = 'ok';
    setup.clock.advance(HALF_OPEN_AFTER_MS);
    expect(await send('price', 'a')).toBe(42);
    expect(service.get(CircuitBreakerRegistry).get('pricing').state).toBe(CircuitState.CLOSED);
    expect(await send('promo', {})).toBe('two for one');
    expect(await send('guarded', {})).toBe('in');
  });

  it('rethrows the CircuitOpenError itself from an event handler, for the transport to handle', async () => {
    await start();
    await trip();
    const handled = new Promise<void>((resolve) => (onEventError = resolve));
    await lastValueFrom(client.emit('price_changed', 'a'), { defaultValue: undefined });
    await handled;
    expect(eventErrors).toHaveLength(1);
    expect(eventErrors[0]).toBeInstanceOf(CircuitOpenError);
    expect(eventErrors[0]).toMatchObject({ breakerName: 'pricing', state: CircuitState.OPEN });
  });

  it('maps in a hybrid application that connects the microservice with inheritAppConfig', async () => {
    setup = await pricingSetup();
    const moduleRef = await Test.createTestingModule({
      imports: setup.imports,
      controllers: [PricingHandlers],
      providers: [...setup.providers, PricedGuard],
    })
      .setLogger(new RecordingLogger())
      .compile();
    const app = moduleRef.createNestApplication({ logger: new RecordingLogger() });
    const options = await microserviceOptions();
    app.connectMicroservice<MicroserviceOptions>(options, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.init();
    service = app; // closed by afterEach
    client = ClientProxyFactory.create(options);
    await client.connect();
    await trip();
    await expect(send('price', 'a')).rejects.toEqual(openPricing());
  });

  it('leaves open circuits to Nest’s default RPC handling with mapOpenErrors: { rpc: false }', async () => {
    await start({ mapOpenErrors: { rpc: false } });
    await trip();
    await expect(send('price', 'a')).rejects.toEqual({ status: 'error', message: 'Internal server error' });
  });
});
