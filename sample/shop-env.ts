import type { DownstreamName, DownstreamTarget } from './downstream/downstream-servers';
import type { ShopOptions } from './app.module';

export interface ShopEnv {
  port: number;
  options: ShopOptions;
  redisUrl?: string;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER), used instead of REDIS_URL when given. */
  redisCluster?: string[];
}

/**
 * Reads the sample's settings from the environment:
 * PORT (default 3000), PAYMENT_PORT / INVENTORY_PORT (local downstream ports, default any free port),
 * PAYMENT_URL / INVENTORY_URL (use a downstream that is already running, e.g. one another instance
 * started), REDIS_URL (share breaker state with other instances through Redis), REDIS_CLUSTER (the same
 * through a Redis Cluster: comma-separated seed nodes such as redis://127.0.0.1:6390,redis://127.0.0.1:6391).
 */
export function readShopEnv(env: NodeJS.ProcessEnv): ShopEnv {
  const downstream: Partial<Record<DownstreamName, DownstreamTarget>> = {};
  for (const name of ['payment', 'inventory'] as const) {
    const prefix = name.toUpperCase();
    const url = env[`${prefix}_URL`];
    if (url !== undefined && url !== '') {
      if (!/^https?:\/\/[^/]+/.test(url)) {
        throw new Error(`${prefix}_URL must be an http(s) URL such as http://127.0.0.1:4001, got "${url}"`);
      }
      downstream[name] = { url };
    } else {
      downstream[name] = { port: readPort(env, `${prefix}_PORT`, 0) };
    }
  }
  const redisUrl = env.REDIS_URL === '' ? undefined : env.REDIS_URL;
  const redisCluster = (env.REDIS_CLUSTER ?? '')
    .split(',')
    .map((node) => node.trim())
    .filter((node) => node !== '');
  for (const node of redisCluster) {
    if (!/^rediss?:\/\/[^/]+/.test(node)) {
      throw new Error(`REDIS_CLUSTER must list redis:// URLs separated by commas, got "${node}"`);
    }
  }
  return {
    port: readPort(env, 'PORT', 3000),
    options: { downstream },
    redisUrl,
    redisCluster: redisCluster.length > 0 ? redisCluster : undefined,
  };
}

function readPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number between 0 and 65535, got "${raw}"`);
  }
  return port;
}
