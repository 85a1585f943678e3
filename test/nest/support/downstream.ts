// A real flaky downstream: a node http server on port 0 that answers, fails, or holds requests open.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type DownstreamMode = 'ok' | 'fail' | 'hang';

export interface Downstream {
  readonly url: string;
  /** Requests that reached the server. */
  readonly hits: number;
  /** Requests held open right now (mode 'hang'). */
  readonly held: number;
  mode: DownstreamMode;
  /** Answers every held request with 200. */
  release(): void;
  /** Resolves once `count` requests are held (they have reached the server). */
  whenHeld(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startDownstream(): Promise<Downstream> {
  let mode: DownstreamMode = 'ok';
  let hits = 0;
  const held: http.ServerResponse[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    hits++;
    if (mode === 'ok') return answer(res, 200, { ok: true, path: req.url });
    if (mode === 'fail') return answer(res, 500, { error: 'downstream failed' });
    held.push(res);
    for (const w of waiters.filter((x) => held.length >= x.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return hits;
    },
    get held() {
      return held.length;
    },
    get mode() {
      return mode;
    },
    set mode(next: DownstreamMode) {
      mode = next;
    },
    release() {
      for (const res of held.splice(0)) answer(res, 200, { ok: true, released: true });
    },
    whenHeld(count: number) {
      if (held.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** GET with a fresh connection; rejects on a non-2xx answer (what a client library would do). */
export function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 400) reject(new DownstreamError(res.statusCode ?? 0, body));
        else resolve(JSON.parse(body));
      });
    });
    req.on('error', reject);
  });
}

export class DownstreamError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`downstream answered ${status}`);
    this.name = 'DownstreamError';
  }
}
