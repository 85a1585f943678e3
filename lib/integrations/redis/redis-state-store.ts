import { randomBytes } from 'node:crypto';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import type { CircuitStateStore, StoreLink, StoreParticipant } from '../../core/store';
import { breakerKeys, changesChannel, type BreakerKeys } from './breaker-keys';
import type { LuaScript } from './lua-scripts';
import { RedisBreakerLink, type LinkHost, type TickOp } from './redis-breaker-link';
import { resolveStoreOptions, type RedisStateStoreOptions, type StoreLogger } from './redis-store-options';
import { parseMessage, parseReply, type ScriptReply } from './store-record';

type Client = Redis | Cluster;

/** Connection states in which a client is still coming up: not yet an outage. */
const STARTING = new Set(['wait', 'connecting', 'connect']);

/**
 * Shares breaker state across every instance that uses the same Redis: transitions (versioned records,
 * pub/sub), half-open probe permits, window counts for the rate trips, and manual control. A CLOSED call
 * never waits on Redis; if Redis is slow or gone, breakers decide locally and resync when it is back.
 *
 * @example
 * const store = new RedisStateStore({ connection: 'redis://127.0.0.1:6379', prefix: 'shop:' });
 * CircuitBreakerModule.forRoot({ store, breakers: { payment: { failureRateThreshold: 50 } } });
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
  private readonly connection: string | RedisOptions | undefined;
  private client: Client | undefined;
  private readonly ownsClient: boolean;
  private subscriber: Client | undefined;
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
    this.backgroundTimeoutMs = Math.max(o.timeoutMs, o.flushIntervalMs);
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
    const keys = breakerKeys(this.prefix, participant.name);
    const link = new RedisBreakerLink(this, participant, keys, `${this.instanceId}.${++this.linkSeq}`);
    if (this.closed) {
      link.shutDown();
      return link;
    }
    let set = this.links.get(keys.tag);
    if (set === undefined) this.links.set(keys.tag, (set = new Set()));
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
      subscriber.removeAllListeners('ready');
      ending.push(ended(subscriber));
      subscriber.disconnect();
    }
    if (client !== undefined) {
      client.off('ready', this.onReady);
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

  degrade(reason: unknown): void {
    if (this.closed) return;
    const wasHealthy = this.healthy;
    this.healthy = false;
    this.resyncAll = true;
    if (!this.warned) {
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
    if (set.size === 0) this.links.delete(link.keys.tag);
  }

  // ---------------------------------------------------------------- connections

  private start(): void {
    if (this.started) return;
    this.started = true;
    const client = this.client ?? this.createClient();
    this.client = client;
    if (client.status === 'wait') client.connect().catch(() => undefined);
    client.on('ready', this.onReady);
    const subscriber = client.duplicate();
    this.subscriber = subscriber;
    // Our own connection: its errors are outages this store reports once, not crashes.
    subscriber.on('error', () => undefined);
    subscriber.on('ready', this.onReady);
    subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    subscriber.subscribe(this.channel).catch(() => undefined);
    this.timer = setInterval(() => this.requestTick(), this.flushIntervalMs);
    this.timer.unref();
  }

  private createClient(): Client {
    const ours: RedisOptions = {
      // Come back quickly after an outage: convergence waits for the reconnection.
      retryStrategy: (attempt) => Math.min(attempt * 50, 500),
      maxRetriesPerRequest: 1,
    };
    const connection = this.connection ?? {};
    const client =
      typeof connection === 'string' ? new Redis(connection, ours) : new Redis({ ...ours, ...connection });
    client.on('error', () => undefined);
    return client;
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
    if (client === undefined) return;
    if (client.status !== 'ready') {
      if (!STARTING.has(client.status)) this.degrade(`connection is ${client.status}`);
      return;
    }
    const full = this.resyncAll;
    this.resyncAll = false;
    if (full) this.eachLink((link) => link.markForResync());
    const now = Date.now();
    const ops: TickOp[] = [];
    this.eachLink((link) => {
      const op = link.prepareTick(full, now);
      if (op !== undefined) ops.push(op);
    });
    if (ops.length === 0 && this.healthy) return;
    this.ticking = true;
    try {
      const ok = await this.exec(client, ops);
      if (ok && !this.healthy && !this.resyncAll) this.recover();
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
        // Redis restarted and lost its script cache: EVAL once (which caches it again).
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
