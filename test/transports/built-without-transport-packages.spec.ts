// The BUILT package in a consumer that has Nest, Express, rxjs and reflect-metadata but none of the transport
// packages: it loads, boots an HTTP app and maps an open circuit to 503.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'rxjs', 'reflect-metadata'];
const TRANSPORT_PACKAGES = [
  '@nestjs/microservices',
  '@nestjs/websockets',
  '@nestjs/graphql',
  'graphql',
  '@grpc/grpc-js',
];

let consumer: string;

beforeAll(() => {
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-breaker-http-only-'));
  const pkg = path.join(consumer, 'node_modules', 'nestjs-breaker');
  fs.mkdirSync(pkg, { recursive: true });
  // Under the build lock shared with the package spec: never copy a dist/ that a build is rewriting.
  const script = [
    'set -e',
    'if [ ! -f dist/index.js ]; then npm run build >&2; fi',
    `cp package.json "${pkg}/"`,
    `cp -R dist "${pkg}/dist"`,
  ].join('\n');
  execFileSync('flock', ['/tmp/build.lock', 'sh', '-c', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (const peer of PEERS) {
    const link = path.join(consumer, 'node_modules', peer);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', peer), link, 'dir');
  }
}, 180_000);

afterAll(() => {
  if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
});

const APP = `
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { CircuitBreakerModule, CircuitBreakerRegistry } = require('nestjs-breaker');

const dist = require.resolve('nestjs-breaker');
const missing = ${JSON.stringify(TRANSPORT_PACKAGES)}.filter((name) => {
  try { require.resolve(name, { paths: [dist] }); return false; } catch { return true; }
});

let registry;
class OrdersController {
  list() { return registry.get('orders').executeSync(() => ['o1']); }
}
Controller()(OrdersController);
Get('orders')(OrdersController.prototype, 'list', Object.getOwnPropertyDescriptor(OrdersController.prototype, 'list'));
class AppModule {}
Module({ imports: [CircuitBreakerModule.forRoot({ http: false })], controllers: [OrdersController] })(AppModule);

(async () => {
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  registry = app.get(CircuitBreakerRegistry);
  const url = 'http://127.0.0.1:' + app.getHttpServer().address().port + '/orders';
  const closed = await fetch(url);
  registry.get('orders').forceOpen();
  const open = await fetch(url);
  console.log(JSON.stringify({ missing, closed: closed.status, open: open.status, body: await open.json() }));
  await app.close();
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('the built package without the transport packages', () => {
  it('boots an HTTP app and answers an open circuit with 503', () => {
    fs.writeFileSync(path.join(consumer, 'app.cjs'), APP);
    const out = execFileSync(process.execPath, ['app.cjs'], {
      cwd: consumer,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(JSON.parse(out)).toEqual({
      missing: TRANSPORT_PACKAGES,
      closed: 200,
      open: 503,
      body: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'circuit breaker "orders" is forced open',
        breaker: 'orders',
        state: 'forced_open',
      },
    });
  });
});
