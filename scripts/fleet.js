#!/usr/bin/env node
// `npm run fleet`: the sample shop as a fleet of 3 instances sharing breaker state through a local Redis.
// Starts redis-server (when REDIS_URL is not given), builds the sample, starts 3 instances on ports
// 3000-3002 that share one payment and one inventory downstream, and stops everything on Ctrl-C.
// `npm run fleet -- --cluster`: the same on a 3-master Redis Cluster (ports FLEET_REDIS_PORT..+2, cluster
// bus ports 10000 above them), created with redis-cli --cluster create.
// Env: REDIS_URL (use a running Redis instead), REDIS_SERVER (the redis-server executable), FLEET_REDIS_PORT (default 6390), FLEET_BASE_PORT (3000).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const clusterMode = process.argv.includes('--cluster');

const root = path.join(__dirname, '..');
const basePort = Number(process.env.FLEET_BASE_PORT || 3000);
const redisPort = Number(process.env.FLEET_REDIS_PORT || 6390);
const redisServer = process.env.REDIS_SERVER || 'redis-server';
const downstreamPorts = { payment: basePort + 1001, inventory: basePort + 1002 };
const children = [];
let stopping = false;

function prefixed(label, stream) {
  let rest = '';
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) process.stdout.write(`[${label}] ${line}\n`);
  });
}

function start(label, command, args, env) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prefixed(label, child.stdout);
  prefixed(label, child.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[fleet] ${label} stopped (${signal ?? code}); stopping the fleet`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

function waitForLine(child, text) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk) => {
      seen += chunk;
      if (seen.includes(text)) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before printing "${text}"`)));
  });
}

function stop(code) {
  if (stopping) return;
  stopping = true;
  // Shop instances first (they close their Redis connections on shutdown), Redis last.
  for (const child of children.slice().reverse()) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}

async function main() {
  let redisUrl = clusterMode ? undefined : process.env.REDIS_URL;
  let redisCluster = '';
  if (clusterMode) {
    redisCluster = await startCluster();
    redisUrl = redisCluster;
  } else if (!redisUrl) {
    const probe = spawnSync(redisServer, ['--version']);
    if (probe.error) {
      console.error(
        'npm run fleet needs Redis: redis-server is not installed here.\n' +
          '  Debian/Ubuntu: sudo apt-get install redis-server   macOS: brew install redis\n' +
          '  or point the fleet at a running Redis: REDIS_URL=redis://host:6379 npm run fleet',
      );
      process.exit(1);
    }
    const redis = start('redis', redisServer, [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    await waitForLine(redis, 'Ready to accept connections');
    redisUrl = `redis://127.0.0.1:${redisPort}`;
  }

  console.log('[fleet] building the sample (nest build)');
  const build = spawnSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) return stop(build.status ?? 1);

  const main = path.join(root, 'dist-sample', 'sample', 'main.js');
  const urls = Object.fromEntries(
    Object.entries(downstreamPorts).map(([n, p]) => [n, `http://127.0.0.1:${p}`]),
  );
  // The first instance runs the two downstream APIs; the others call the same ones.
  const first = start('shop-1', process.execPath, [main], {
    PORT: String(basePort),
    REDIS_URL: clusterMode ? '' : redisUrl,
    REDIS_CLUSTER: redisCluster,
    PAYMENT_PORT: String(downstreamPorts.payment),
    INVENTORY_PORT: String(downstreamPorts.inventory),
  });
  await waitForLine(first, 'shop listening on');
  for (const i of [2, 3]) {
    const child = start(`shop-${i}`, process.execPath, [main], {
      PORT: String(basePort + i - 1),
      REDIS_URL: clusterMode ? '' : redisUrl,
      REDIS_CLUSTER: redisCluster,
      PAYMENT_URL: urls.payment,
      INVENTORY_URL: urls.inventory,
    });
    await waitForLine(child, 'shop listening on');
  }
  console.log(
    `\n[fleet] 3 instances share breaker state through ${clusterMode ? 'the Redis Cluster ' : ''}${redisUrl}:\n` +
      [0, 1, 2].map((i) => `  http://localhost:${basePort + i}/circuit-breakers/dashboard`).join('\n') +
      `\n[fleet] break payment, order on one instance, watch all three open:\n` +
      `  curl -s -X POST localhost:${basePort}/chaos/payment/fail\n` +
      `  for i in 1 2 3 4 5 6; do curl -s -X POST localhost:${basePort}/orders -H 'content-type: application/json' -d '{"sku":"hammer"}'; echo; done\n` +
      `  curl -s localhost:${basePort + 2}/circuit-breakers/payment\n` +
      '[fleet] Ctrl-C stops the fleet\n',
  );
}

/** Starts 3 cluster-enabled redis-servers, joins them into a cluster; returns the seed nodes for REDIS_CLUSTER. */
async function startCluster() {
  if (spawnSync(redisServer, ['--version']).error || spawnSync('redis-cli', ['--version']).error) {
    console.error(
      'npm run fleet -- --cluster needs redis-server and redis-cli (Debian/Ubuntu: sudo apt-get install redis-server)',
    );
    process.exit(1);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-breaker-fleet-cluster-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const ports = [redisPort, redisPort + 1, redisPort + 2];
  for (const port of ports) {
    const node = start(`redis-${port}`, redisServer, [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`)],
      ...['--cluster-node-timeout', '2000', '--dir', dir],
    ]);
    await waitForLine(node, 'Ready to accept connections');
  }
  const create = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'],
    { encoding: 'utf8' },
  );
  if (create.status !== 0)
    throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  for (let i = 0; i < 200; i++) {
    const info = spawnSync('redis-cli', ['-p', String(ports[0]), 'CLUSTER', 'INFO'], { encoding: 'utf8' });
    if (info.stdout.includes('cluster_state:ok')) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  console.log(`[fleet] Redis Cluster of 3 masters on ports ${ports.join(', ')}`);
  return ports.map((p) => `redis://127.0.0.1:${p}`).join(',');
}

process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
main().catch((error) => {
  console.error(`[fleet] ${error.message}`);
  stop(1);
});
