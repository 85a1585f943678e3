import { RedisStateStore } from '../../lib/integrations/redis';
import { runStateStoreContract } from '../../lib/testing';
import { RedisCluster } from './support/redis-cluster';
import { RedisServer } from './support/redis-server';

jest.setTimeout(20_000);

const quiet = { warn: () => undefined };
// The contract is about what the fleet agrees on: a permit answer later than timeoutMs is decided locally
// by design, and on a busy machine the default 50 ms can pass for CPU alone, so the suite leaves room.
const timeoutMs = 1_000;

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
        timeoutMs,
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
        timeoutMs,
        logger: quiet,
      }),
  );
});
