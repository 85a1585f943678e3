import { RedisStateStore } from '../../lib/integrations/redis';
import { runStateStoreContract } from '../../lib/testing';
import { RedisCluster } from './support/redis-cluster';
import { RedisServer } from './support/redis-server';

jest.setTimeout(20_000);

const quiet = { warn: () => undefined };

describe('RedisStateStore on one redis-server', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.stop();
  });
  runStateStoreContract(
    { describe, it, beforeEach, afterEach },
    (namespace) =>
      new RedisStateStore({
        connection: redis.url,
        prefix: `${namespace}:`,
        flushIntervalMs: 50,
        logger: quiet,
      }),
  );
});

describe('RedisStateStore on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  });
  afterAll(async () => {
    await cluster.stop();
  });
  runStateStoreContract(
    { describe, it, beforeEach, afterEach },
    (namespace) =>
      new RedisStateStore({
        connection: { cluster: cluster.nodes },
        prefix: `${namespace}:`,
        flushIntervalMs: 50,
        logger: quiet,
      }),
  );
});
