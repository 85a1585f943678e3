'use strict';
/**
 * Fleet-wide breakers on Redis, measured against the built package (run `npm run build` first):
 *   1. CLOSED per-call overhead: RedisStateStore vs the in-memory store (same process, interleaved rounds).
 *   2. Trip propagation across 3 processes: one trips, two others hear of it (p50 / p99 over many trips).
 *   3. Redis commands per second of one instance running 10,000 calls/s (INFO commandstats).
 * Starts its own redis-server on a free port (needs `redis-server` on PATH). With --cluster, 1 and 2 run
 * again on a 3-master Redis Cluster it creates (needs `redis-cli` too), through `{ cluster: [...] }`.
 *
 *   node --expose-gc bench/redis-fleet.js [--quick] [--cluster]
 */
const { spawn, fork } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const { BreakerRegistry } = require(path.join(dist, 'core'));
const { RedisStateStore } = require(path.join(dist, 'integrations', 'redis'));
const { Redis } = require('ioredis');

const QUICK = process.argv.includes('--quick');
const CLUSTER = process.argv.includes('--cluster');
const now = () => performance.timeOrigin + performance.now();
const ok = () => 1;
const okAsync = () => Promise.resolve(1);
const fail = () => {
  throw new Error('down');
};

// ---------------------------------------------------------------- child: one fleet instance

if (process.argv[2] === 'child') {
  const connection = JSON.parse(process.env.REDIS_CONNECTION);
  const store = new RedisStateStore({ connection, flushIntervalMs: 500 });
  const registry = new BreakerRegistry({
    breakers: { trip: { failureThreshold: 1, halfOpenAfterMs: 600_000 } },
    store,
  });
  registry.stateChanges$.subscribe((e) => process.send({ type: 'state', to: e.to, at: now() }));
  process.on('message', (m) => {
    if (m.type === 'close') {
      registry.dispose();
      store.close().then(() => process.disconnect());
    }
  });
  const ready = setInterval(() => {
    if (store.status === 'shared') {
      clearInterval(ready);
      process.send({ type: 'ready' });
    }
  }, 5);
  return;
}

// ---------------------------------------------------------------- helpers

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await new Promise((resolve, reject) => {
    child.on('error', () =>
      reject(new Error('redis-server is not installed (apt-get install redis-server)')),
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  child.stdout.resume();
  // Never leave the server behind, even if the bench crashes.
  process.on('exit', () => child.kill());
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill();
    });
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** A 3-master Redis Cluster of redis-server children on free ports; returns its seed nodes. */
async function startCluster() {
  const { mkdtempSync, rmSync } = require('node:fs');
  const { execFileSync } = require('node:child_process');
  const dir = mkdtempSync(path.join(require('node:os').tmpdir(), 'bench-cluster-'));
  const nodes = [];
  const children = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const bus = await freePort();
    const child = spawn('redis-server', [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--cluster-enabled', 'yes', '--cluster-port', String(bus), '--dir', dir],
      ...['--cluster-config-file', path.join(dir, `nodes-${port}.conf`)],
    ]);
    children.push(child);
    await new Promise((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve();
      });
    });
    child.stdout.resume();
    nodes.push({ host: '127.0.0.1', port });
  }
  process.on('exit', () => children.forEach((c) => c.kill()));
  execFileSync(
    'redis-cli',
    ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'],
    {
      stdio: 'ignore',
    },
  );
  await until('cluster ok', () =>
    nodes.every((n) =>
      execFileSync('redis-cli', ['-p', String(n.port), 'CLUSTER', 'INFO'], { encoding: 'utf8' }).includes(
        'cluster_state:ok',
      ),
    ),
  );
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.kill()))));
    rmSync(dir, { recursive: true, force: true });
  };
  return { connection: { cluster: nodes }, stop };
}

const until = async (what, check, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

// ---------------------------------------------------------------- 1. CLOSED per-call overhead

function timeCalls(breaker, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) breaker.execute(ok);
  return Number(process.hrtime.bigint() - t0) / n;
}

async function timeAsyncCalls(breaker, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = 0; j < 100; j++) batch.push(breaker.executePromise(okAsync));
    await Promise.all(batch);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

async function overhead(connection) {
  const options = {
    failureRateThreshold: 50,
    minimumCalls: 20,
    window: { type: 'time', sizeMs: 10_000, buckets: 10 },
  };
  const memory = new BreakerRegistry({ breakers: { plain: {}, rated: options } });
  const store = new RedisStateStore({ connection, flushIntervalMs: 500 });
  const shared = new BreakerRegistry({ breakers: { plain: {}, rated: options }, store });
  await until('store shared', () => store.status === 'shared');
  const rounds = QUICK ? 5 : 15;
  const n = QUICK ? 200_000 : 1_000_000;
  const rows = [];
  for (const name of ['plain', 'rated']) {
    for (const [label, fn] of [
      ['execute (sync)', timeCalls],
      ['executePromise', timeAsyncCalls],
    ]) {
      const m = [];
      const r = [];
      // Warm both up (JIT), then alternate which goes first so neither profits from the order.
      await fn(memory.get(name), n);
      await fn(shared.get(name), n);
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? [memory, shared] : [shared, memory];
        for (const registry of order) {
          global.gc?.();
          (registry === memory ? m : r).push(await fn(registry.get(name), n));
        }
      }
      rows.push({ breaker: name, call: label, memoryNs: median(m), redisNs: median(r) });
    }
  }
  memory.dispose();
  shared.dispose();
  await store.close();
  return rows;
}

// ---------------------------------------------------------------- 2. trip propagation across processes

async function propagation(connection) {
  const children = await Promise.all(
    [1, 2].map(
      () =>
        new Promise((resolve) => {
          const env = { ...process.env, REDIS_CONNECTION: JSON.stringify(connection) };
          const child = fork(__filename, ['child'], { env });
          const events = [];
          child.on('message', (m) => (m.type === 'ready' ? resolve({ child, events }) : events.push(m)));
        }),
    ),
  );
  const store = new RedisStateStore({ connection, flushIntervalMs: 500 });
  const registry = new BreakerRegistry({
    breakers: { trip: { failureThreshold: 1, halfOpenAfterMs: 600_000 } },
    store,
  });
  await until('store shared', () => store.status === 'shared');
  const breaker = registry.get('trip');
  const latencies = [];
  const trips = QUICK ? 30 : 200;
  for (let i = 0; i < trips; i++) {
    for (const c of children) c.events.length = 0;
    const t0 = now();
    try {
      breaker.execute(() => {
        throw new Error('down');
      });
    } catch {
      // the failure that trips it
    }
    await until('others open', () => children.every((c) => c.events.some((e) => e.to === 'open')));
    for (const c of children) latencies.push(c.events.find((e) => e.to === 'open').at - t0);
    breaker.reset();
    await until('others closed', () => children.every((c) => c.events.some((e) => e.to === 'closed')));
  }
  for (const c of children) c.child.send({ type: 'close' });
  await Promise.all(children.map((c) => new Promise((r) => c.child.once('exit', r))));
  registry.dispose();
  await store.close();
  return { trips, p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies) };
}

// ---------------------------------------------------------------- 3. Redis commands per second at 10k calls/s

async function commandRate(redisUrl) {
  const admin = new Redis(redisUrl);
  const breakers = {};
  for (let i = 0; i < 10; i++) breakers[`svc${i}`] = { failureRateThreshold: 50, minimumCalls: 20 };
  const results = [];
  for (const flushIntervalMs of [500, 1000]) {
    const store = new RedisStateStore({ connection: redisUrl, flushIntervalMs });
    const registry = new BreakerRegistry({ breakers, store });
    await until('store shared', () => store.status === 'shared');
    await admin.config('RESETSTAT');
    const seconds = QUICK ? 3 : 10;
    const perTick = 100; // 100 calls every 10 ms: 10,000 calls/s spread over the 10 breakers
    let calls = 0;
    const started = Date.now();
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        for (let i = 0; i < perTick; i++) {
          try {
            // One call in 7 fails: the windows change all the time, so every flush has counts to send.
            registry.get(`svc${i % 10}`).execute(i % 7 === 0 ? fail : ok);
          } catch {
            // expected failures
          }
          calls++;
        }
        if (Date.now() - started >= seconds * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    }).catch(() => undefined);
    const elapsed = (Date.now() - started) / 1000;
    const stats = await admin.info('commandstats');
    // Top-level commands are what the instance sends; commandstats also counts the calls scripts make inside.
    let sent = 0;
    let all = 0;
    for (const m of stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
      if (m[1] === 'info' || m[1] === 'config|resetstat') continue;
      all += Number(m[2]);
      if (m[1] === 'evalsha' || m[1] === 'eval' || m[1] === 'zrem' || m[1] === 'ping') sent += Number(m[2]);
    }
    results.push({
      flushIntervalMs,
      callsPerSecond: Math.round(calls / elapsed),
      sentPerSecond: +(sent / elapsed).toFixed(1),
      allPerSecond: +(all / elapsed).toFixed(1),
    });
    registry.dispose();
    await store.close();
  }
  admin.disconnect();
  return results;
}

// ---------------------------------------------------------------- main

async function main() {
  const redis = await startRedis();
  try {
    console.log(
      `node ${process.version}, ${require('node:os').cpus().length} cores${QUICK ? ' (quick)' : ''}\n`,
    );
    console.log('1. CLOSED per-call cost, in-memory store vs RedisStateStore (median ns/call)');
    for (const r of await overhead(redis.url)) {
      console.log(
        `   ${r.breaker.padEnd(6)} ${r.call.padEnd(15)} memory ${r.memoryNs.toFixed(1).padStart(7)}  redis ${r.redisNs.toFixed(1).padStart(7)}  ratio ${(r.redisNs / r.memoryNs).toFixed(3)}`,
      );
    }
    console.log('\n2. Trip propagation, 1 instance trips -> 2 other processes OPEN (ms)');
    const p = await propagation(redis.url);
    console.log(
      `   ${p.trips} trips: p50 ${p.p50.toFixed(2)}  p99 ${p.p99.toFixed(2)}  max ${p.max.toFixed(2)}`,
    );
    console.log(
      '\n3. Redis commands per second, one instance at ~10,000 calls/s over 10 rate-tripping breakers',
    );
    for (const r of await commandRate(redis.url)) {
      console.log(
        `   flushIntervalMs ${String(r.flushIntervalMs).padStart(4)}: ${r.callsPerSecond} calls/s -> ${r.sentPerSecond} commands/s sent ` +
          `(one pipeline per flush), ${r.allPerSecond} commands/s executed by Redis incl. inside scripts`,
      );
    }
    if (CLUSTER) {
      const cluster = await startCluster();
      try {
        console.log(
          '\n4. On a 3-master Redis Cluster: CLOSED per-call cost, in-memory vs RedisStateStore (median ns/call)',
        );
        for (const r of await overhead(cluster.connection)) {
          console.log(
            `   ${r.breaker.padEnd(6)} ${r.call.padEnd(15)} memory ${r.memoryNs.toFixed(1).padStart(7)}  cluster ${r.redisNs.toFixed(1).padStart(7)}  ratio ${(r.redisNs / r.memoryNs).toFixed(3)}`,
          );
        }
        console.log('\n5. On the cluster: trip propagation, 1 instance trips -> 2 other processes OPEN (ms)');
        const c = await propagation(cluster.connection);
        console.log(
          `   ${c.trips} trips: p50 ${c.p50.toFixed(2)}  p99 ${c.p99.toFixed(2)}  max ${c.max.toFixed(2)}`,
        );
      } finally {
        await cluster.stop();
      }
    }
  } finally {
    await redis.stop();
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
