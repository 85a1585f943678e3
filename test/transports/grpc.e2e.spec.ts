// A gRPC microservice under an open circuit, called by a real grpc-js client built from a small .proto.
import * as path from 'node:path';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { GrpcMethod, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CircuitBreakerRegistry, CircuitState } from '../../lib';
import { RecordingLogger } from '../nest/support/apps';
import { freePort } from '../redis/support/redis-server';
import {
  HALF_OPEN_AFTER_MS,
  PricingClient,
  PROMO_FALLBACK,
  pricingSetup,
  type PricingSetup,
} from './support/pricing';

const PROTO = path.join(__dirname, 'fixtures', 'pricing.proto');

@Controller()
class PricingGrpcService {
  constructor(private readonly pricing: PricingClient) {}

  @GrpcMethod('Pricing', 'Quote')
  async quote(request: { sku: string }): Promise<{ price: number }> {
    return { price: await this.pricing.price(request.sku) };
  }

  @GrpcMethod('Pricing', 'Promo')
  async promo(): Promise<{ text: string }> {
    return { text: await this.pricing.promo() };
  }
}

type Unary<Req, Res> = (
  request: Req,
  callback: (error: grpc.ServiceError | null, reply?: Res) => void,
) => void;
interface PricingStub extends grpc.Client {
  Quote: Unary<{ sku: string }, { price: number }>;
  Promo: Unary<Record<string, never>, { text: string }>;
}

function call<Req, Res>(method: Unary<Req, Res>, stub: PricingStub, request: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    method.call(stub, request, (error, reply) => (error ? reject(error) : resolve(reply as Res))),
  );
}

describe('gRPC handlers under an open circuit', () => {
  let setup: PricingSetup;
  let service: INestMicroservice;
  let stub: PricingStub;

  beforeEach(async () => {
    setup = await pricingSetup();
    const moduleRef = await Test.createTestingModule({
      imports: setup.imports,
      controllers: [PricingGrpcService],
      providers: setup.providers,
    })
      .setLogger(new RecordingLogger())
      .compile();
    const url = `127.0.0.1:${await freePort()}`;
    service = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.GRPC,
      options: { package: 'pricing', protoPath: PROTO, url },
    });
    service.useLogger(new RecordingLogger());
    await service.listen();
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as unknown as {
      pricing: { Pricing: new (address: string, credentials: grpc.ChannelCredentials) => PricingStub };
    };
    stub = new definition.pricing.Pricing(url, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    stub.close();
    await service.close();
    await setup.downstream.close();
  });

  it('answers UNAVAILABLE with grpc-retry-pushback-ms, keeps fallbacks, and recovers through half-open', async () => {
    setup.downstream.mode = 'fail';
    for (let i = 0; i < 2; i++) {
      const failure = await call(stub.Quote, stub, { sku: 'a' }).catch((e: grpc.ServiceError) => e);
      expect((failure as grpc.ServiceError).code).not.toBe(grpc.status.UNAVAILABLE);
    }
    expect(service.get(CircuitBreakerRegistry).get('pricing').state).toBe(CircuitState.OPEN);
    const hits = setup.downstream.hits;

    const open = (await call(stub.Quote, stub, { sku: 'a' }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(open.code).toBe(grpc.status.UNAVAILABLE);
    expect(open.details).toBe(`circuit breaker "pricing" is open; retry in ${HALF_OPEN_AFTER_MS} ms`);
    expect(open.metadata.get('grpc-retry-pushback-ms')).toEqual([String(HALF_OPEN_AFTER_MS)]);
    expect(open.metadata.get('x-circuit-breaker')).toEqual(['pricing']);
    expect(open.metadata.get('x-circuit-breaker-state')).toEqual(['open']);
    expect(await call(stub.Promo, stub, {})).toEqual({ text: PROMO_FALLBACK });
    expect(setup.downstream.hits).toBe(hits);

    // Forced open: no retry time is known, so no pushback (the client's own policy decides).
    const breaker = service.get(CircuitBreakerRegistry).get('pricing');
    breaker.forceOpen();
    const forced = (await call(stub.Quote, stub, { sku: 'a' }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(forced.code).toBe(grpc.status.UNAVAILABLE);
    expect(forced.metadata.get('grpc-retry-pushback-ms')).toEqual([]);
    expect(forced.metadata.get('x-circuit-breaker-state')).toEqual(['forced_open']);
    breaker.reset();

    setup.downstream.mode = 'fail';
    for (let i = 0; i < 2; i++) await call(stub.Quote, stub, { sku: 'a' }).catch(() => undefined);
    setup.downstream.mode = 'ok';
    setup.clock.advance(HALF_OPEN_AFTER_MS);
    expect(await call(stub.Quote, stub, { sku: 'a' })).toEqual({ price: 42 });
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(await call(stub.Promo, stub, {})).toEqual({ text: 'two for one' });
  });
});
