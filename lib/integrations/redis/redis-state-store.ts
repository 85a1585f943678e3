import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { CircuitStateStore, StoreLink, StoreParticipant } from '../../core/store';
import { breakerKeys, changesChannel, shardedChannel, type BreakerKeys } from './breaker-keys';
import { keySlot } from './key-slot';
import type { LuaScript } from './lua-scripts';
import { RedisBreakerLink, type LinkHost, type TickOp } from './redis-breaker-link';
import {
  isClusterConnection,
  resolveStoreOptions,
  type RedisClusterConnection,
  type RedisStateStoreOptions,
  type StoreLogger,
} from './redis-store-options';
import { serverFacts, whatIsWrong } from './store-errors';
import { parseMessage, parseReply, type ScriptReply } from './store-record';

type Client = Redis | Cluster;

/** Connection states in which a client is still coming up: not yet an outage. */
const STARTING = new Set(['wait', 'connecting', 'connect']);

/** How transitions travel: one classic channel, or one sharded channel per breaker (Redis Cluster 7+). */
type PubSubMode = 'classic' | 'sharded';

/**
 * Round trips nobody waits for (flushes, publishes) get at least this long before they count as an
 * outage: a loaded event loop or a busy machine must not pass for a dead Redis.
 */
const MIN_BACKGROUND_TIMEOUT_MS = 1_000;

/**
 * Every breaker's record is read again at least this often (and never more often than every 10
 * flushes): a safety net for a pub/sub message lost while a subscription moved (failover, resharding).
 */
const FULL_RESYNC_MIN_MS = 5_000;

/**
 * Shares breaker state across every instance that uses the same Redis: transitions (versioned records,
 * pub/sub), half-open probe permits, window counts for the rate trips, and manual control. A CLOSED call
 * never waits on Redis; if Redis is slow or gone, breakers decide locally and resync when it is back.
 *
 * Works on one Redis and on a Redis Cluster (an ioredis `Cluster` as `client`, or `{ cluster: [...] }` as
 * `connection`): each breaker's keys share a hash tag (one slot), flushes are grouped by node, and on
 * Redis 7+ clusters transitions travel on sharded pub/sub channels.
 *
 * @example
 * const store = new RedisStateStore({ connection: 'redis://127.0.0.1:6379', prefix: 'shop:' });
 * CircuitBreakerModule.forRoot({ store, breakers: { payment: { failureRateThreshold: 50 } } });
 * // or on a cluster:
 * new RedisStateStore({ client: new Cluster([{ host: '10.0.0.1', port: 6379 }]) });
 */
export class RedisStateStore implements CircuitStateStore, LinkHost {
  readonly prefix: string;
  readonly flushIntervalMs: number;
  readonly timeoutMs: number;
  readonly keyTtlMs: number;
  readonly backgroundTimeoutMs: number;
  readonly channel: string;
  /** Names this process's entries (window totals, probe permits, published changes). */
  readonly instanceId: string;

  private readonly logger: StoreLogger;
  private readonly connection: string | RedisOptions | RedisClusterConnection | undefined;
  private client: Client | undefined;
  private readonly ownsClient: boolean;
  private subscriber: Client | undefined;
  /** Unknown until the server has been asked (first tick): a cluster of Redis 7+ gets sharded pub/sub. */
  private pubsub: PubSubMode | undefined;
  /** Set when the store can never work as configured (named once, then every decision stays local). */
  private misconfigured: string | undefined;
  /** Subscriptions asked for and not yet confirmed: the store is not 'shared' before it hears the fleet. */
  private pendingSubscriptions = 0;
  /** Problems other than outages already named (each once per store). */
  private readonly named = new Set<string>();
  private readonly links = new Map<string, Set<RedisBreakerLink>>();
  private linkSeq = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private healthy = false;
  private warned = false;
  private closed = false;
  private started = false;
  private ticking = false;
  private tickAgain = false;
  private tickQueued = false;
  private resyncAll = true;
  private lastFullResyncAt = 0;
  private readonly onReady = (): void => {
    this.resyncAll = true;
    this.requestTick();
  };

  constructor(options: RedisStateStoreOptions = {}) {
    const o = resolveStoreOptions(options);
    this.prefix = o.prefix;
    this.flushIntervalMs = o.flushIntervalMs;
    this.timeoutMs = o.timeoutMs;
    this.keyTtlMs = o.keyTtlMs;
    this.logger = o.logger;
    this.backgroundTimeoutMs = Math.max(o.timeoutMs, o.flushIntervalMs, MIN_BACKGROUND_TIMEOUT_MS);
    this.channel = changesChannel(o.prefix);
    this.instanceId = `${process.pid}-${randomBytes(4).toString('hex')}`;
    this.client = o.client;
    this.ownsClient = o.client === undefined;
    this.connection = o.connection;
  }

  /** 'shared' while Redis answers, 'degraded' while breakers decide locally. */
  get status(): 'shared' | 'degraded' {
    return this.healthy ? 'shared' : 'degraded';
  }

  get shared(): boolean {
    return this.healthy && !this.closed;
  }

  /** Connects a breaker (the registry calls this). Connections open on the first one. */
  attach(participant: StoreParticipant): StoreLink {
    const keys = breakerKeys(this.prefix, participant.name, participant.key);
    const link = new RedisBreakerLink(this, participant, keys, `${this.instanceId}.${++this.linkSeq}`);
    if (this.closed) {
      link.shutDown();
      return link;
    }
    let set = this.links.get(keys.tag);
    if (set === undefined) {
      this.links.set(keys.tag, (set = new Set()));
      this.listen(keys.tag, true);
    }
    set.add(link);
    link.setStatus(this.healthy ? 'shared' : 'degraded');
    this.start();
    this.requestTick();
    return link;
  }

  /** Stops flushing, drops the subscription, and closes the connection if this store created it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const set of this.links.values()) for (const link of set) link.shutDown();
    this.links.clear();
    const client = this.client;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    const ending: Promise<void>[] = [];
    if (subscriber !== undefined) {
      subscriber.removeAllListeners('message');
      subscriber.removeAllListeners('smessage');
      subscriber.removeAllListeners('ready');
      ending.push(ended(subscriber));
      subscriber.disconnect();
    }
    if (client !== undefined) {
      client.off('ready', this.onReady);
      client.off('+node', this.onReady);
      client.off('-node', this.onReady);
      if (this.ownsClient) {
        if (client.status === 'ready') {
          await bounded(client.quit(), this.timeoutMs * 4).catch(() => undefined);
        }
        ending.push(ended(client));
        client.disconnect();
      }
    }
    // Resolve only once the sockets are gone, so nothing of ours outlives close().
    await bounded(Promise.all(ending), 2_000).catch(() => undefined);
  }

  // ---------------------------------------------------------------- LinkHost

  run(script: LuaScript, keys: BreakerKeys, args: string[], boundMs: number): Promise<ScriptReply> {
    const client = this.client;
    if (client === undefined || client.status !== 'ready') {
      return Promise.reject(new Error(`Redis connection is ${client?.status ?? 'not open'}`));
    }
    const k = [keys.state, keys.window, keys.probes];
    const attempt = client
      .evalsha(script.sha, 3, ...k, ...args)
      .catch((error: unknown) =>
        isNoScript(error) ? client.eval(script.source, 3, ...k, ...args) : Promise.reject(error),
      );
    return bounded(attempt, boundMs).then(parseReply);
  }

  release(key: string, member: string): void {
    const client = this.client;
    if (client === undefined || client.status !== 'ready') return;
    bounded(client.zrem(key, member), this.backgroundTimeoutMs).catch((error: unknown) =>
      this.degrade(error),
    );
  }

  publishTarget(keys: BreakerKeys): [channel: string, command: 'PUBLISH' | 'SPUBLISH'] {
    return this.pubsub === 'sharded'
      ? [shardedChannel(this.prefix, keys.tag), 'SPUBLISH']
      : [this.channel, 'PUBLISH'];
  }

  degrade(reason: unknown): void {
    if (this.closed) return;
    const wasHealthy = this.healthy;
    this.healthy = false;
    this.resyncAll = true;
    const wrong = whatIsWrong(reason);
    if (wrong !== undefined) {
      // Not an outage: say what it is (once), so nobody waits for a Redis that is up all along.
      if (!this.named.has(wrong)) {
        this.named.add(wrong);
        this.logger.warn(
          `nestjs-breaker: Redis state store error that is not an outage: ${wrong} (${describe(reason)}); breakers decide locally meanwhile`,
        );
      }
    } else if (!this.warned) {
      this.warned = true;
      this.logger.warn(
        `nestjs-breaker: Redis state store unreachable (${describe(reason)}); breakers decide locally until it is back`,
      );
    }
    if (wasHealthy) this.eachLink((link) => link.setStatus('degraded'));
  }

  forget(link: RedisBreakerLink): void {
    const set = this.links.get(link.keys.tag);
    if (set === undefined) return;
    set.delete(link);
    if (set.size === 0) {
      this.links.delete(link.keys.tag);
      this.listen(link.keys.tag, false);
    }
  }

  // ---------------------------------------------------------------- connections

  private start(): void {
    if (this.started) return;
    this.started = true;
    const client = this.client ?? this.createClient();
    this.client = client;
    if (client.status === 'wait') client.connect().catch(() => undefined);
    client.on('ready', this.onReady);
    // A cluster stays 'ready' through a failover: a node that joins or leaves means "read everything again".
    client.on('+node', this.onReady);
    client.on('-node', this.onReady);
    this.timer = setInterval(() => this.requestTick(), this.flushIntervalMs);
    this.timer.unref();
  }

  private createClient(): Client {
    // Come back quickly after an outage: convergence waits for the reconnection.
    const retry = (attempt: number): number => Math.min(attempt * 50, 500);
    const connection = this.connection ?? {};
    let client: Client;
    if (isClusterConnection(connection)) {
      client = new Cluster(connection.cluster, {
        clusterRetryStrategy: retry,
        // A promoted replica is found within a second even if no command is redirected meanwhile.
        slotsRefreshInterval: 1_000,
        retryDelayOnFailover: 100,
        ...connection.clusterOptions,
        redisOptions: { maxRetriesPerRequest: 1, ...connection.clusterOptions?.redisOptions },
      });
    } else {
      const ours: RedisOptions = { retryStrategy: retry, maxRetriesPerRequest: 1 };
      client =
        typeof connection === 'string' ? new Redis(connection, ours) : new Redis({ ...ours, ...connection });
    }
    client.on('error', () => undefined);
    return client;
  }

  /**
   * Asks the server (once) what it is: a plain client on a cluster node can never work (named, and the
   * store stays local); a cluster of Redis 7+ gets sharded pub/sub. Returns false until it knows.
   */
  private async inspectServer(client: Client): Promise<boolean> {
    let info: string;
    try {
      info = await bounded(client.info(), this.backgroundTimeoutMs);
    } catch (error) {
      this.degrade(error);
      return false;
    }
    const facts = serverFacts(info);
    const cluster = isClusterClient(client);
    if (facts.clusterEnabled && !cluster) {
      this.misconfigured =
        'the server is a Redis Cluster node but the client is a plain ioredis Redis: pass an ioredis Cluster as client, or { cluster: [...nodes] } as connection';
      this.logger.warn(
        `nestjs-breaker: RedisStateStore is misconfigured: ${this.misconfigured}; every breaker decides locally`,
      );
      this.eachLink((link) => link.setStatus('degraded'));
      if (this.timer !== undefined) clearInterval(this.timer);
      return false;
    }
    this.pubsub = cluster && facts.majorVersion >= 7 ? 'sharded' : 'classic';
    this.openSubscriber(client);
    return true;
  }

  private openSubscriber(client: Client): void {
    const sharded = this.pubsub === 'sharded';
    // ioredis spreads sharded subscriptions over one connection per master and follows slot moves.
    const subscriber = sharded
      ? (client as Cluster).duplicate([], { shardedSubscribers: true })
      : client.duplicate();
    this.subscriber = subscriber;
    // Our own connection: its errors are outages this store reports once, not crashes.
    subscriber.on('error', () => undefined);
    subscriber.on('ready', this.onReady);
    const onMessage = (_channel: string, message: string): void => this.onMessage(message);
    if (sharded) {
      subscriber.on('smessage', onMessage);
      // Subscriptions moved to other nodes (failover, resharding): what was published meanwhile is missed.
      subscriber.on('subscribersReady', this.onReady);
      for (const tag of this.links.keys()) this.listen(tag, true);
    } else {
      subscriber.on('message', onMessage);
      this.pendingSubscriptions++;
      const done = (): void => {
        this.pendingSubscriptions--;
        this.resync();
      };
      subscriber.subscribe(this.channel).then(done, done);
    }
  }

  /** Subscribes to (or leaves) a breaker's own channel; only sharded pub/sub has one per breaker. */
  private listen(tag: string, on: boolean): void {
    const subscriber = this.subscriber;
    if (subscriber === undefined || this.pubsub !== 'sharded') return;
    const channel = shardedChannel(this.prefix, tag);
    if (!on) {
      subscriber.sunsubscribe(channel).catch(() => undefined);
      return;
    }
    // A transition published before the subscription took effect was missed: read the record again.
    this.pendingSubscriptions++;
    const done = (): void => {
      this.pendingSubscriptions--;
      this.resync(tag);
    };
    subscriber.ssubscribe(channel).then(done, done);
  }

  /** Reads the records of one breaker's links (or of all) on the next tick. */
  private resync(tag?: string): void {
    if (this.closed) return;
    if (tag === undefined) this.resyncAll = true;
    else for (const link of this.links.get(tag) ?? []) link.markForResync();
    this.requestTick();
  }

  private onMessage(message: string): void {
    const change = parseMessage(message);
    if (change === undefined) return;
    const set = this.links.get(change.tag);
    if (set === undefined) return;
    for (const link of set) link.onMessage(change.record, change.source, change.reason);
  }

  // ---------------------------------------------------------------- flush ticks

  private requestTick(): void {
    if (this.closed || this.tickQueued) return;
    this.tickQueued = true;
    setImmediate(() => {
      this.tickQueued = false;
      void this.tick();
    });
  }

  /** One pipeline (one round trip) for every link that has something to flush, publish or resync. */
  private async tick(): Promise<void> {
    if (this.closed) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    const client = this.client;
    if (client === undefined || this.misconfigured !== undefined) return;
    if (client.status !== 'ready') {
      if (!STARTING.has(client.status)) this.degrade(`connection is ${client.status}`);
      return;
    }
    if (this.pubsub === undefined) {
      this.ticking = true;
      const known = await this.inspectServer(client).finally(() => (this.ticking = false));
      if (!known || this.closed) return;
    }
    const now = Date.now();
    const full =
      this.resyncAll ||
      now - this.lastFullResyncAt >= Math.max(FULL_RESYNC_MIN_MS, 10 * this.flushIntervalMs);
    this.resyncAll = false;
    if (full) this.lastFullResyncAt = now;
    if (full) this.eachLink((link) => link.markForResync());
    const ops: TickOp[] = [];
    this.eachLink((link) => {
      const op = link.prepareTick(full, now);
      if (op !== undefined) ops.push(op);
    });
    if (ops.length === 0 && this.healthy) return;
    this.ticking = true;
    try {
      // One pipeline per node (a cluster answers a pipeline only when every key lives on one node).
      const groups = isClusterClient(client) ? groupByNode(client, ops) : [ops];
      const answers = await Promise.all(groups.map((group) => this.exec(client, group)));
      const ok = answers.every(Boolean);
      if (ok && !this.healthy && !this.resyncAll && this.pendingSubscriptions === 0) this.recover();
    } finally {
      this.ticking = false;
    }
    if (this.tickAgain) {
      this.tickAgain = false;
      this.requestTick();
    }
  }

  /** Sends the ops in one pipeline; returns true when every one of them was answered. */
  private async exec(client: Client, ops: TickOp[]): Promise<boolean> {
    const pipeline = client.pipeline();
    if (ops.length === 0) pipeline.ping();
    for (const op of ops) {
      const k = op.link.keys;
      pipeline.evalsha(op.script.sha, 3, k.state, k.window, k.probes, ...op.args);
    }
    let results: [Error | null, unknown][];
    try {
      results = (await bounded(pipeline.exec(), this.backgroundTimeoutMs)) ?? [];
    } catch (error) {
      for (const op of ops) op.link.fail(op, error);
      this.degrade(error);
      return false;
    }
    // Every answer counts, the bare PING of an idle resync included: a dead socket answers with errors.
    let ok =
      results.length === Math.max(ops.length, 1) &&
      results.every(([error]) => error === null || isNoScript(error));
    const retries: Promise<void>[] = [];
    ops.forEach((op, i) => {
      const [error, raw] = results[i] ?? [new Error('no answer'), undefined];
      if (error !== null && isNoScript(error)) {
        // Redis restarted, or a replica took over, without the script cache: EVAL once (caches it again).
        const k = op.link.keys;
        retries.push(
          bounded(
            client.eval(op.script.source, 3, k.state, k.window, k.probes, ...op.args),
            this.backgroundTimeoutMs,
          ).then(
            (again) => op.link.settle(op, parseReply(again)),
            (e: unknown) => {
              ok = false;
              op.link.fail(op, e);
            },
          ),
        );
        return;
      }
      if (error !== null) {
        ok = false;
        op.link.fail(op, error);
        return;
      }
      try {
        op.link.settle(op, parseReply(raw));
      } catch (e) {
        ok = false;
        op.link.fail(op, e);
      }
    });
    await Promise.all(retries);
    return ok;
  }

  private recover(): void {
    this.healthy = true;
    if (this.warned) {
      this.warned = false;
      this.logger.log?.('nestjs-breaker: Redis state store is back; breaker states resynchronised');
    }
    this.eachLink((link) => link.setStatus('shared'));
  }

  private eachLink(fn: (link: RedisBreakerLink) => void): void {
    for (const set of this.links.values()) for (const link of set) fn(link);
  }
}

function isClusterClient(client: Client): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * Splits a tick's ops by the node that serves their slot (each breaker's keys share one slot), keeping
 * one round trip per node. Before the slot map is known every slot is its own group.
 */
function groupByNode(client: Cluster, ops: TickOp[]): TickOp[][] {
  if (ops.length === 0) return [ops];
  const groups = new Map<string, TickOp[]>();
  for (const op of ops) {
    const slot = keySlot(op.link.keys.state);
    const nodes = client.slots[slot];
    const node = nodes === undefined || nodes.length === 0 ? `slot ${slot}` : nodes.join(';');
    let group = groups.get(node);
    if (group === undefined) groups.set(node, (group = []));
    group.push(op);
  }
  return [...groups.values()];
}

/** Settles when the client's connection has ended for good. */
function ended(client: Client): Promise<void> {
  if (client.status === 'end') return Promise.resolve();
  return new Promise((resolve) => client.once('end', () => resolve()));
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** Rejects when `promise` has not settled within `ms` (the timer never keeps the process alive). */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
