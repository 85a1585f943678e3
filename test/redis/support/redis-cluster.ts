import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { keySlot } from '../../../lib/integrations/redis/key-slot';
import { freePort, RedisServer, waitFor } from './redis-server';

const run = promisify(execFile);

/** One node of the cluster as CLUSTER NODES describes it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** For a replica, the id of its master. */
  masterId: string | undefined;
  failed: boolean;
  slots: [from: number, to: number][];
}

/**
 * A real Redis Cluster made of redis-server child processes on free ports (data port and cluster bus
 * port both asked from the OS), created with `redis-cli --cluster create`. The node timeout is short so a
 * killed master's replica takes over within a couple of seconds.
 */
export class RedisCluster {
  private constructor(
    readonly servers: RedisServer[],
    private readonly dir: string,
  ) {}

  /** `masters` masters, each with `replicasEach` replicas. */
  static async start(masters = 3, replicasEach = 0): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'nestjs-breaker-cluster-'));
    const count = masters * (1 + replicasEach);
    const servers: RedisServer[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        const busPort = await freePort();
        servers.push(
          await RedisServer.start(port, [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '1000',
            // A replica that never synced cannot be promoted: sync at once, not after the 5 s default.
            '--repl-diskless-sync-delay',
            '0',
            '--dir',
            dir,
          ]),
        );
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas',
        String(replicasEach),
        '--cluster-yes',
      ]);
      const cluster = new RedisCluster(servers, dir);
      await cluster.waitHealthy(replicasEach);
      return cluster;
    } catch (error) {
      for (const server of servers) await server.kill();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Seed nodes for an ioredis Cluster. */
  get nodes(): { host: string; port: number }[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  /** An ioredis Cluster client the test owns (the caller disconnects it). */
  client(): Cluster {
    const client = new Cluster(this.nodes, { slotsRefreshInterval: 1_000 });
    client.on('error', () => undefined);
    return client;
  }

  /** CLUSTER NODES as seen by a running node. */
  async describe(): Promise<ClusterNodeInfo[]> {
    const server = this.servers.find((s) => s.running);
    if (server === undefined) throw new Error('no cluster node is running');
    const redis = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const text = (await redis.call('CLUSTER', 'NODES')) as string;
      return text
        .trim()
        .split('\n')
        .map((line) => {
          const [id, address, flags, master, , , , , ...slots] = line.split(' ');
          return {
            id,
            port: Number(address.split('@')[0].split(':')[1]),
            role: flags.includes('master') ? 'master' : 'replica',
            masterId: master === '-' ? undefined : master,
            failed: flags.split(',').includes('fail'),
            slots: slots
              .filter((range) => !range.startsWith('['))
              .map((range) => {
                const [from, to] = range.split('-').map(Number);
                return [from, to ?? from] as [number, number];
              }),
          };
        });
    } finally {
      redis.disconnect();
    }
  }

  /** The running server that is master of `key`'s slot. */
  async masterOf(key: string): Promise<RedisServer> {
    const slot = keySlot(key);
    const nodes = await this.describe();
    const master = nodes.find(
      (n) => n.role === 'master' && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    const server = this.servers.find((s) => s.port === master?.port && s.running);
    if (server === undefined) throw new Error(`no running master serves slot ${slot}`);
    return server;
  }

  /** Waits until every slot is served and (with replicas) every master has its replicas, in sync. */
  async waitHealthy(replicasEach: number, deadlineMs = 20_000): Promise<void> {
    await waitFor(
      'a healthy cluster',
      async () => {
        for (const server of this.servers.filter((s) => s.running)) {
          const { stdout } = await run('redis-cli', ['-p', String(server.port), 'CLUSTER', 'INFO']);
          if (!stdout.includes('cluster_state:ok')) return false;
        }
        if (replicasEach === 0) return true;
        const nodes = await this.describe();
        for (const replica of nodes.filter((n) => n.role === 'replica' && !n.failed)) {
          const { stdout } = await run('redis-cli', ['-p', String(replica.port), 'INFO', 'replication']);
          if (!stdout.includes('master_link_status:up')) return false;
        }
        return nodes
          .filter((n) => n.role === 'master' && !n.failed)
          .every((m) => nodes.filter((r) => r.masterId === m.id && !r.failed).length >= replicasEach);
      },
      deadlineMs,
      50,
    );
  }

  async stop(): Promise<void> {
    for (const server of this.servers) await server.kill();
    if (!process.env.KEEP_CLUSTER_DIR) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Breaker names whose keys (prefix + `{name}`) fall on `count` different masters of the cluster. */
export function namesOnDifferentSlots(prefix: string, count: number): string[] {
  // Slots are split evenly: 0-5460, 5461-10922, 10923-16383 on three masters.
  const wanted = [0, 5461, 10923].slice(0, count);
  const names: string[] = [];
  for (const lower of wanted) {
    for (let i = 0; ; i++) {
      const name = `svc-${lower}-${i}`;
      const slot = keySlot(`${prefix}{${name}}:s`);
      if (slot >= lower && slot < lower + 5000) {
        names.push(name);
        break;
      }
    }
  }
  return names;
}
