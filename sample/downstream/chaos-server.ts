import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a downstream answers: `ok` normally, `fail` with 500, `hang` never, `flaky` fails every third request. */
export type ChaosMode = 'ok' | 'fail' | 'hang' | 'flaky';
export const CHAOS_MODES: readonly ChaosMode[] = ['ok', 'fail', 'hang', 'flaky'];

/** What a downstream reports about itself at `GET /_chaos`. */
export interface ChaosStatus {
  name: string;
  mode: ChaosMode;
  /** Business requests received (control requests excluded). */
  requests: number;
  /** Requests answered with a chaos 500. */
  failed: number;
  /** Requests the caller gave up on before an answer was sent (a hung request whose signal aborted). */
  aborted: number;
}

export interface JsonReply {
  status: number;
  body: unknown;
}

/** The downstream's real behaviour when healthy. */
export type JsonHandler = (method: string, url: URL, body: unknown) => JsonReply;

/**
 * A tiny real HTTP API with a chaos switch. `POST /_chaos/{ok,fail,hang,flaky}` changes how it answers;
 * control requests are always served, so a hung downstream can still be healed.
 */
export class ChaosServer {
  private mode: ChaosMode = 'ok';
  /** Merchants whose requests fail (a request names its merchant with `merchantId` in its JSON body). */
  private readonly failingMerchants = new Set<string>();
  private sinceModeChange = 0;
  private readonly counts = { requests: 0, failed: 0, aborted: 0 };
  private readonly server: Server;

  constructor(
    readonly name: string,
    private readonly handler: JsonHandler,
  ) {
    this.server = createServer((req, res) => void this.serve(req, res));
  }

  /** Listens on 127.0.0.1:`port` (0 = any free port) and resolves with the base URL. */
  listen(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const { port: actual } = this.server.address() as AddressInfo;
        resolve(`http://127.0.0.1:${actual}`);
      });
    });
  }

  /** Stops listening and drops every connection, hung requests included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private status(): ChaosStatus {
    return { name: this.name, mode: this.mode, ...this.counts };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://downstream');
    const path = url.pathname;
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      return; // the client went away while sending
    }
    if (path === '/_chaos' && method === 'GET') return send(res, 200, this.status());
    const merchant = /^\/_chaos\/merchants\/([^/]+)\/(fail|heal)$/.exec(path);
    if (merchant !== null && method === 'POST') {
      const id = decodeURIComponent(merchant[1]);
      if (merchant[2] === 'fail') this.failingMerchants.add(id);
      else this.failingMerchants.delete(id);
      return send(res, 200, { failingMerchants: [...this.failingMerchants] });
    }
    if (path.startsWith('/_chaos/') && method === 'POST') {
      const mode = path.slice('/_chaos/'.length) as ChaosMode;
      if (!CHAOS_MODES.includes(mode)) {
        return send(res, 400, {
          message: `unknown chaos mode "${mode}", expected one of ${CHAOS_MODES.join(', ')}`,
        });
      }
      this.mode = mode;
      this.sinceModeChange = 0;
      return send(res, 200, this.status());
    }

    this.counts.requests++;
    this.sinceModeChange++;
    if (this.mode === 'hang') {
      // Never answer; count the caller giving up (the breaker's timeout aborting the request).
      res.on('close', () => {
        if (!res.writableEnded) this.counts.aborted++;
      });
      return;
    }
    if (this.mode === 'fail' || (this.mode === 'flaky' && this.sinceModeChange % 3 === 1)) {
      this.counts.failed++;
      return send(res, 500, { message: `${this.name} is failing (chaos mode "${this.mode}")` });
    }
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      return send(res, 400, { message: 'request body is not valid JSON' });
    }
    const merchantId = (body as { merchantId?: unknown } | undefined)?.merchantId;
    if (typeof merchantId === 'string' && this.failingMerchants.has(merchantId)) {
      this.counts.failed++;
      return send(res, 500, { message: `${this.name} is failing for merchant ${merchantId} (chaos)` });
    }
    const reply = this.handler(method, url, body);
    send(res, reply.status, reply.body);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
