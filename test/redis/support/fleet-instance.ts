/*
 * One app instance of a fleet, run as a child process by the fleet specs: a BreakerRegistry on a
 * RedisStateStore, behind a small HTTP server, calling a real HTTP downstream.
 *   GET  /call/:name               -> 200 { ok, waitedMs } | 503 { open, waitedMs } | 502 { error, waitedMs }
 *   GET  /state/:name              -> the breaker's snapshot
 *   POST /control/:name/:action    -> force-open | disable | reset
 * `waitedMs` is the time between the call entering the breaker and the breaker deciding (running fn or
 * rejecting): what a call spends waiting on the store. State changes go to the parent over IPC with the
 * real time they happened at, so the parent can measure propagation across processes.
 * Env: REDIS_URL, DOWNSTREAM (base URL), BREAKERS (JSON), STORE (JSON RedisStateStore options),
 * CLOCK_OFFSET_MS (this instance's clock runs ahead by that much).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BreakerRegistry, CircuitOpenError, type BreakerOptions, type Clock } from '../../../lib/core';
import { RedisStateStore } from '../../../lib/integrations/redis';

const offset = Number(process.env.CLOCK_OFFSET_MS ?? 0);
const clock: Clock = { now: () => Date.now() + offset };
const breakers = JSON.parse(process.env.BREAKERS ?? '{}') as Record<string, BreakerOptions>;
const warnings: string[] = [];
const store = new RedisStateStore({
  connection: process.env.REDIS_URL,
  logger: { warn: (m) => { warnings.push(m); process.stderr.write(`[${process.env.LABEL}] WARN ${m}\n`); } },
  ...(JSON.parse(process.env.STORE ?? '{}') as object),
});
const registry = new BreakerRegistry({ breakers, store, clock });
const downstream = process.env.DOWNSTREAM as string;

const stateChanges = registry.stateChanges$.subscribe((event) => {
  process.send?.({ type: 'state', name: event.name, from: event.from, to: event.to, reason: event.reason, realAt: Date.now() });
});

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function call(name: string, res: ServerResponse): Promise<void> {
  const entered = performance.now();
  let decided = -1;
  try {
    const status = await registry.get(name).executePromise(async () => {
      decided = performance.now();
      const response = await fetch(`${downstream}/${encodeURIComponent(name)}`);
      await response.arrayBuffer();
      if (response.status >= 500) throw new Error(`downstream answered ${response.status}`);
      return response.status;
    });
    reply(res, 200, { ok: true, status, waitedMs: decided - entered });
  } catch (error) {
    const waitedMs = (decided < 0 ? performance.now() : decided) - entered;
    if (error instanceof CircuitOpenError) reply(res, 503, { open: true, state: error.state, waitedMs });
    else reply(res, 502, { error: (error as Error).message, waitedMs });
  }
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const parts = (req.url ?? '/').split('/').map(decodeURIComponent);
  if (req.method === 'GET' && parts[1] === 'call') return void call(parts[2], res);
  if (req.method === 'GET' && parts[1] === 'state') {
    return reply(res, 200, { ...registry.get(parts[2]).snapshot(), warnings: warnings.length, storeStatus: store.status });
  }
  if (req.method === 'POST' && parts[1] === 'control') {
    const b = registry.get(parts[2]);
    if (parts[3] === 'force-open') b.forceOpen();
    else if (parts[3] === 'disable') b.disable();
    else if (parts[3] === 'reset') b.reset();
    else return reply(res, 404, { error: `unknown action ${parts[3]}` });
    return reply(res, 200, { state: b.state });
  }
  reply(res, 404, { error: 'not found' });
}

const server = createServer(route);
server.keepAliveTimeout = 1_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', port: typeof address === 'object' && address !== null ? address.port : 0 });
});

process.on('message', (message: { type?: string }) => {
  if (message.type !== 'close') return;
  stateChanges.unsubscribe();
  registry.dispose();
  server.closeAllConnections();
  server.close();
  void store.close().then(() => process.disconnect());
});
