import { readShopEnv } from '../../sample/shop-env';

describe('sample shop environment', () => {
  it('defaults to port 3000 and local downstreams on free ports', () => {
    expect(readShopEnv({})).toEqual({
      port: 3000,
      options: { downstream: { payment: { port: 0 }, inventory: { port: 0 } } },
      redisUrl: undefined,
    });
  });

  it('reads ports, downstream URLs and REDIS_URL', () => {
    const env = readShopEnv({
      PORT: '3001',
      PAYMENT_PORT: '4001',
      INVENTORY_URL: 'http://127.0.0.1:4002',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(env).toEqual({
      port: 3001,
      options: { downstream: { payment: { port: 4001 }, inventory: { url: 'http://127.0.0.1:4002' } } },
      redisUrl: 'redis://127.0.0.1:6379',
    });
  });

  it('reads REDIS_CLUSTER as a list of seed nodes', () => {
    const env = readShopEnv({ REDIS_CLUSTER: 'redis://127.0.0.1:6390, redis://127.0.0.1:6391,' });
    expect(env.redisCluster).toEqual(['redis://127.0.0.1:6390', 'redis://127.0.0.1:6391']);
    expect(readShopEnv({ REDIS_CLUSTER: '' }).redisCluster).toBeUndefined();
  });

  it.each([
    [
      { REDIS_CLUSTER: '127.0.0.1:6390' },
      'REDIS_CLUSTER must list redis:// URLs separated by commas, got "127.0.0.1:6390"',
    ],
    [{ PORT: 'abc' }, 'PORT must be a port number between 0 and 65535, got "abc"'],
    [{ PORT: '70000' }, 'PORT must be a port number between 0 and 65535, got "70000"'],
    [{ INVENTORY_PORT: '-1' }, 'INVENTORY_PORT must be a port number between 0 and 65535, got "-1"'],
    [{ PAYMENT_URL: 'localhost:4001' }, 'PAYMENT_URL must be an http(s) URL such as http://127.0.0.1:4001'],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => readShopEnv(env)).toThrow(message);
  });
});
