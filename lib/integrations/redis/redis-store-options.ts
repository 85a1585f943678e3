import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { BreakerConfigError } from '../../core/errors';
import { describeValue } from '../../core/options';

/** Where a store reports an outage (once per outage) and its end. */
export interface StoreLogger {
  warn(message: string): void;
  log?(message: string): void;
}

/**
 * How the store connects to a Redis Cluster it creates the client for: the seed nodes (any few of the
 * cluster's nodes; the client discovers the rest) and optional ioredis cluster options.
 *
 * @example
 * new RedisStateStore({ connection: { cluster: ['redis://10.0.0.1:6379', { host: '10.0.0.2', port: 6379 }] } });
 */
export interface RedisClusterConnection {
  cluster: ClusterNode[];
  clusterOptions?: ClusterOptions;
}

export interface RedisStateStoreOptions {
  /** An ioredis client the app owns (`Redis` or `Cluster`): used as is and never disconnected by the store. */
  client?: Redis | Cluster;
  /**
   * Or how to connect (a `redis://` URL, ioredis options, or `{ cluster: [...nodes] }` for a Redis
   * Cluster): the store creates the client and closes it on `close()`.
   */
  connection?: string | RedisOptions | RedisClusterConnection;
  /** Starts every key and the pub/sub channel. Default `'cb:'`. */
  prefix?: string;
  /** How often window counts are flushed (one round trip per flush). Default 500 ms. */
  flushIntervalMs?: number;
  /** The longest a call waits on Redis (a half-open permit); then it decides locally. Default 50 ms. */
  timeoutMs?: number;
  /** How long a breaker's keys outlive its last activity. Default 10 minutes. */
  keyTtlMs?: number;
  /** Default: `process.emitWarning` for outages, nothing when Redis is back. */
  logger?: StoreLogger;
}

export interface ResolvedStoreOptions {
  client: Redis | Cluster | undefined;
  connection: string | RedisOptions | RedisClusterConnection | undefined;
  prefix: string;
  flushIntervalMs: number;
  timeoutMs: number;
  keyTtlMs: number;
  logger: StoreLogger;
}

const KNOWN = ['client', 'connection', 'prefix', 'flushIntervalMs', 'timeoutMs', 'keyTtlMs', 'logger'];

const defaultLogger: StoreLogger = {
  warn: (message) => process.emitWarning(message, { code: 'EBREAKERSTORE' }),
};

function fail(message: string): never {
  throw new BreakerConfigError(`RedisStateStore: ${message}`);
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer in [${min}, ${max}] (ms), got ${describeValue(value)}`);
  }
  return value;
}

/** Validates the store's options; every mistake is reported with the option's name and the bad value. */
export function resolveStoreOptions(raw: RedisStateStoreOptions): ResolvedStoreOptions {
  if (raw === null || typeof raw !== 'object') fail(`options must be an object, got ${describeValue(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!KNOWN.includes(key)) fail(`unknown option "${key}" (known: ${KNOWN.join(', ')})`);
  }
  const { client, connection } = raw;
  if (client !== undefined && connection !== undefined) {
    fail('give either client (one the app owns) or connection (one the store creates), not both');
  }
  if (
    client !== undefined &&
    (client === null ||
      typeof client !== 'object' ||
      typeof (client as Redis).evalsha !== 'function' ||
      typeof (client as Redis).duplicate !== 'function')
  ) {
    fail(`client must be an ioredis Redis or Cluster instance, got ${describeValue(client)}`);
  }
  if (
    connection !== undefined &&
    typeof connection !== 'string' &&
    (connection === null || typeof connection !== 'object' || Array.isArray(connection))
  ) {
    fail(
      `connection must be a redis:// URL, ioredis options or { cluster: [...nodes] }, got ${describeValue(connection)}`,
    );
  }
  if (isClusterConnection(connection)) {
    const nodes: unknown = connection.cluster;
    if (!Array.isArray(nodes) || nodes.length === 0) {
      fail(`connection.cluster must be a non-empty array of nodes, got ${describeValue(nodes)}`);
    }
    const bad = nodes.find(
      (node: unknown) =>
        !(typeof node === 'string' && node.length > 0) &&
        !(typeof node === 'number' && Number.isInteger(node)) &&
        !(typeof node === 'object' && node !== null && !Array.isArray(node)),
    );
    if (bad !== undefined) {
      fail(`connection.cluster nodes must be URLs, ports or { host, port }, got ${describeValue(bad)}`);
    }
    const extra = Object.keys(connection).filter((key) => key !== 'cluster' && key !== 'clusterOptions');
    if (extra.length > 0) {
      fail(`connection with cluster takes only cluster and clusterOptions, got "${extra[0]}"`);
    }
    const co: unknown = connection.clusterOptions;
    if (co !== undefined && (co === null || typeof co !== 'object' || Array.isArray(co))) {
      fail(`connection.clusterOptions must be ioredis ClusterOptions, got ${describeValue(co)}`);
    }
  }
  const prefix = raw.prefix ?? 'cb:';
  if (typeof prefix !== 'string' || prefix.length > 200) {
    fail(`prefix must be a string of at most 200 characters, got ${describeValue(prefix)}`);
  }
  // Braces would move the hash tag off the breaker name; control characters make keys unreadable.
  // eslint-disable-next-line no-control-regex
  if (/[{}\s\u0000-\u001f\u007f*?[\]]/.test(prefix)) {
    fail(
      `prefix must not contain braces, whitespace, control or glob characters, got ${describeValue(prefix)}`,
    );
  }
  const logger = raw.logger ?? defaultLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    fail(`logger must have a warn(message) method, got ${describeValue(logger)}`);
  }
  return {
    client,
    connection,
    prefix,
    flushIntervalMs: integer('flushIntervalMs', raw.flushIntervalMs, 500, 10, 60_000),
    timeoutMs: integer('timeoutMs', raw.timeoutMs, 50, 1, 60_000),
    keyTtlMs: integer('keyTtlMs', raw.keyTtlMs, 600_000, 100, 30 * 24 * 3_600_000),
    logger,
  };
}

/** True for the `{ cluster: [...] }` form of `connection`. */
export function isClusterConnection(connection: unknown): connection is RedisClusterConnection {
  return typeof connection === 'object' && connection !== null && 'cluster' in connection;
}
