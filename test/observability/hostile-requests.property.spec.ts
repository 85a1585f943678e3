// Property test: whatever the network sends the breaker routes, on Express and Fastify, the answer is never a
// 500, the server keeps serving, no prototype is polluted, no breaker is created and every answer is small.
import fc from 'fast-check';
import http from 'node:http';
import { PLATFORMS, bootApp, type Platform, type RunningApp } from './support';

/** No answer of these routes is larger (the dashboard page is ~30 KiB; the registry does not grow). */
const MAX_RESPONSE_BYTES = 256 * 1024;
/** Wall-clock budget of the generated runs per platform: CI stays fast whatever the machine. */
const TIME_LIMIT_MS = 3_000;

interface Answer {
  status: number;
  bytes: number;
}

/**
 * Sends `path` as it is, byte for byte (Node refuses only characters outside 0x21-0xFF, which are
 * percent-encoded here), and reads at most MAX_RESPONSE_BYTES + 1 bytes. An event stream is closed once
 * its headers are in.
 */
function send(base: string, method: string, path: string): Promise<Answer> {
  // Byte by byte: a lone surrogate goes out as the UTF-8 of U+FFFD, as a browser would send it.
  const safePath = path.replace(/[^\u0021-\u00ff]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, method, path: safePath, agent: false, headers: { accept: '*/*' } },
      (res) => {
        let bytes = 0;
        const status = res.statusCode ?? 0;
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          resolve({ status, bytes: 0 });
          req.destroy();
          return;
        }
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_RESPONSE_BYTES) req.destroy();
        });
        res.on('end', () => resolve({ status, bytes }));
        res.on('close', () => resolve({ status, bytes }));
        res.on('error', () => undefined);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve({ status: 0, bytes: 0 }) : reject(error),
    );
    req.end();
  });
}

const TRICKS = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '.',
  '..',
  '%2e%2e',
  '..%2F..%2Fetc%2Fpasswd',
  '..\\..\\windows',
  '%2F',
  '//',
  '%00',
  '%0a',
  '%',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80',
  '%C0%AE',
  '<script>alert(1)</script>',
  'payment',
  'metrics',
  'events',
  'dashboard',
  '\u202e\u0000\ud83d',
];

/** A path segment: a trick, generated unicode (encoded or raw), or something huge. */
const segment = fc.oneof(
  fc.constantFrom(...TRICKS),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 150, max: 20_000 }).map((n) => 'x'.repeat(n)),
);

const queryValue = fc.oneof(
  fc.constantFrom(
    '',
    'open',
    'closed',
    'OPEN',
    '1',
    '0',
    '-1',
    '1e309',
    '0x10',
    '9'.repeat(400),
    'NaN',
    '%',
    '%E0',
  ),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.integer({ min: 1_000, max: 50_000 }).map((n) => 'k'.repeat(n)),
);

/** A query string: the routes' own parameters with hostile values, prototype keys, or garbage. */
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'key',
          'state',
          'limit',
          'key[]',
          'key[__proto__][polluted]',
          '__proto__[polluted]',
          'constructor[prototype][polluted]',
          '__proto__.polluted',
          'refresh',
        ),
        queryValue,
      ),
      { maxLength: 5 },
    )
    .map((pairs) => '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&')),
  fc.constantFrom(
    '?',
    '??',
    '?&&&',
    '?=',
    '?key',
    '?key=a&key=b',
    '?%',
    '?a=%zz',
    '?#x',
    '?' + '&'.repeat(5_000),
  ),
);

const route = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
  segments: fc.array(segment, { minLength: 0, maxLength: 3 }),
  action: fc.constantFrom(
    '',
    '/events',
    '/force-open',
    '/disable',
    '/reset',
    '/keys',
    '/metrics',
    '/dashboard',
  ),
  query,
});

describe.each(PLATFORMS)('hostile requests at every breaker route on %s', (platform: Platform) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await bootApp(platform, {
      breakers: { payment: {}, inventory: {} },
      http: { control: true, allowUnguardedControl: true },
      events: { maxClients: 10_000 },
      metrics: { promRegistry: false },
    });
  });

  afterAll(async () => {
    await running.close();
  });

  it('never answers 5xx, never crashes, pollutes nothing, creates no breaker, answers small', async () => {
    const names = running.registry.names();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(route, async ({ method, segments, action, query: q }) => {
        runs++;
        const path = `/circuit-breakers${segments.map((s) => `/${s}`).join('')}${action}${q}`;
        const answer = await send(running.url, method, path);
        expect({ path, status: answer.status }).toEqual({ path, status: expect.any(Number) });
        if (answer.status >= 500 || answer.status === 0)
          throw new Error(`${method} ${path} -> ${answer.status}`);
        if (answer.bytes > MAX_RESPONSE_BYTES) throw new Error(`${method} ${path} -> ${answer.bytes} bytes`);
      }),
      {
        numRuns: 2_000,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: false,
        examples: [
          [{ method: 'GET', segments: ['__proto__'], action: '/events', query: '?__proto__[polluted]=1' }],
          [
            {
              method: 'POST',
              segments: ['constructor'],
              action: '/force-open',
              query: '?key[__proto__][x]=1',
            },
          ],
          [{ method: 'GET', segments: ['%E0%A4%A'], action: '', query: '?limit=1e309&state=OPEN' }],
          [{ method: 'GET', segments: [], action: '/events', query: '?' + '&'.repeat(5_000) }],
          [{ method: 'GET', segments: ['x'.repeat(20_000)], action: '/events', query: '' }],
        ],
      },
    );
    expect(runs).toBeGreaterThan(10); // the examples and some generated runs, even on a loaded machine
    // No prototype gained a property from a query key or a name.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    // Routes never create breakers, and the server still answers.
    expect(running.registry.names()).toEqual(names);
    const after = await send(running.url, 'GET', '/circuit-breakers/payment');
    expect(after.status).toBe(200);
  });
});
