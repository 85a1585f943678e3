import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { RedisStateStore } from '../lib/integrations/redis';
import { AppModule } from './app.module';
import { DownstreamServers } from './downstream/downstream-servers';
import { readShopEnv } from './shop-env';

async function bootstrap(): Promise<void> {
  const env = readShopEnv(process.env);
  // Shares every breaker's state with the other instances on the same Redis (the module closes it on shutdown).
  const store =
    env.redisCluster !== undefined
      ? new RedisStateStore({ connection: { cluster: env.redisCluster } })
      : env.redisUrl === undefined
        ? undefined
        : new RedisStateStore({ connection: env.redisUrl });
  const app = await NestFactory.create(AppModule.forRoot({ ...env.options, store }));
  app.enableShutdownHooks();
  await app.listen(env.port);

  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const base = `http://localhost:${port}`;
  const downstream = app.get(DownstreamServers);
  const logger = new Logger('Shop');
  logger.log(`shop listening on ${base}`);
  logger.log(
    `  place an order:   curl -X POST ${base}/orders -H 'content-type: application/json' -d '{"sku":"hammer"}'`,
  );
  logger.log(`  catalogue:        curl ${base}/catalogue?category=tools`);
  logger.log(
    `  break payment:    curl -X POST ${base}/chaos/payment/fail   (also /hang, /flaky, /heal; inventory too)`,
  );
  logger.log(`  breakers (JSON):  ${base}/circuit-breakers`);
  logger.log(`  dashboard:        ${base}/circuit-breakers/dashboard`);
  logger.log(`  payment API:      ${downstream.url('payment')}`);
  logger.log(`  inventory API:    ${downstream.url('inventory')}`);
  if (env.redisUrl !== undefined) logger.log(`  breaker state shared through Redis at ${env.redisUrl}`);
}

bootstrap().catch((error: unknown) => {
  new Logger('Shop').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
