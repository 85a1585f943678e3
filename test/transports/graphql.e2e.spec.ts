// GraphQL resolvers under an open circuit, on Apollo (Express) and Mercurius (Fastify), over real HTTP.
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Injectable, UseGuards, type CanActivate, type INestApplication } from '@nestjs/common';
import {
  Args,
  Field,
  GraphQLModule,
  Int,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import request from 'supertest';
import type { App } from 'supertest/types';
import { CircuitBreakerRegistry, CircuitState } from '../../lib';
import { bootApp, type Platform } from '../nest/support/apps';
import {
  HALF_OPEN_AFTER_MS,
  PricingClient,
  PROMO_FALLBACK,
  pricingSetup,
  type PricingSetup,
} from './support/pricing';

@ObjectType()
class Product {
  @Field()
  sku!: string;
}

/** A guard whose own dependency is behind the breaker: its open circuit reaches the exception filter. */
@Injectable()
class PricedGuard implements CanActivate {
  constructor(private readonly pricing: PricingClient) {}
  async canActivate(): Promise<boolean> {
    return (await this.pricing.price('guard')) > 0;
  }
}

@Resolver(() => Product)
class CatalogueResolver {
  constructor(private readonly pricing: PricingClient) {}

  @Query(() => String)
  status(): string {
    return 'open for business';
  }

  @Query(() => Int, { nullable: true })
  quote(@Args('sku') sku: string): Promise<number> {
    return this.pricing.price(sku);
  }

  @Query(() => Product)
  product(@Args('sku') sku: string): Product {
    return { sku };
  }

  // A field resolver: enhancers (and so the mapping) reach it through fieldResolverEnhancers.
  @ResolveField(() => Int, { nullable: true })
  price(@Parent() product: Product): Promise<number> {
    return this.pricing.price(product.sku);
  }

  @Query(() => String, { nullable: true })
  @UseGuards(PricedGuard)
  guarded(): string {
    return 'in';
  }

  @Query(() => String)
  promo(): Promise<string> {
    return this.pricing.promo();
  }
}

const DRIVERS: {
  driver: string;
  platform: Platform;
  graphql: () => ReturnType<typeof GraphQLModule.forRoot>;
}[] = [
  {
    driver: 'Apollo',
    platform: 'express',
    graphql: () =>
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        fieldResolverEnhancers: ['interceptors', 'filters'],
        includeStacktraceInErrorResponses: false,
      }),
  },
  {
    driver: 'Mercurius',
    platform: 'fastify',
    graphql: () =>
      GraphQLModule.forRoot<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        autoSchemaFile: true,
        // Mercurius loads its query cache (quick-lru, ESM) by dynamic import, which jest on Node 20 refuses.
        cache: false,
        fieldResolverEnhancers: ['interceptors', 'filters'],
      }),
  },
];

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

describe.each(DRIVERS)('GraphQL under an open circuit ($driver)', ({ platform, graphql }) => {
  let setup: PricingSetup;
  let app: INestApplication<App>;

  beforeEach(async () => {
    setup = await pricingSetup();
    app = await bootApp(platform, {
      imports: [graphql(), ...setup.imports],
      providers: [CatalogueResolver, PricedGuard, ...setup.providers],
    });
  });

  afterEach(async () => {
    await app.close();
    await setup.downstream.close();
  });

  async function query(source: string): Promise<GraphQLAnswer> {
    const res = await request(app.getHttpServer()).post('/graphql').send({ query: source });
    expect(res.status).toBe(200);
    return res.body as GraphQLAnswer;
  }

  it('answers SERVICE_UNAVAILABLE with the breaker, the other fields still resolve, and recovers through half-open', async () => {
    const breaker = app.get(CircuitBreakerRegistry).get('pricing');
    setup.downstream.mode = 'fail';
    for (let i = 0; i < 2; i++) {
      const failed = await query('{ quote(sku: "a") }');
      expect(failed.data).toEqual({ quote: null });
      expect(failed.errors?.[0].extensions?.code).not.toBe('SERVICE_UNAVAILABLE');
    }
    expect(breaker.state).toBe(CircuitState.OPEN);
    const hits = setup.downstream.hits;

    const open = await query('{ status quote(sku: "a") product(sku: "b") { sku price } promo }');
    expect(open.data).toEqual({
      status: 'open for business',
      quote: null,
      product: { sku: 'b', price: null },
      promo: PROMO_FALLBACK,
    });
    const unavailable = {
      message: `circuit breaker "pricing" is open; retry in ${HALF_OPEN_AFTER_MS} ms`,
      extensions: {
        code: 'SERVICE_UNAVAILABLE',
        breaker: 'pricing',
        state: 'open',
        retryAfterMs: HALF_OPEN_AFTER_MS,
      },
    };
    const byPath = Object.fromEntries((open.errors ?? []).map((e) => [e.path?.join('.'), e]));
    expect(Object.keys(byPath).sort()).toEqual(['product.price', 'quote']);
    expect(byPath.quote).toMatchObject(unavailable);
    expect(byPath['product.price']).toMatchObject(unavailable);
    const guarded = await query('{ status guarded }'); // met in a guard: mapped by the exception filter
    expect(guarded.data).toEqual({ status: 'open for business', guarded: null });
    expect(guarded.errors).toEqual([expect.objectContaining({ ...unavailable, path: ['guarded'] })]);
    expect(setup.downstream.hits).toBe(hits); // nothing reached the downstream

    setup.downstream.mode = 'ok';
    setup.clock.advance(HALF_OPEN_AFTER_MS);
    expect(await query('{ quote(sku: "a") }')).toEqual({ data: { quote: 42 } });
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(await query('{ product(sku: "b") { price } promo }')).toEqual({
      data: { product: { price: 42 }, promo: 'two for one' },
    });
  });
});
