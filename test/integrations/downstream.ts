// A real flaky downstream for the HTTP integration specs: a node:http server on port 0 whose behaviour
// the test sets per request, counting every request that reaches it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface Downstream {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Requests that reached the server. */
  readonly requests: number;
  /** Request bodies in arrival order. */
  readonly bodies: string[];
  /** Requests whose connection closed before the server answered them. */
  readonly abandoned: number;
  /** Answers every following request with `handler`. */
  respond(handler: Handler): void;
  /** Answers the following requests with these handlers, one each, then with the last one. */
  sequence(...handlers: Handler[]): void;
  /** Resolves when the next request arrives (with its response, to answer it later). */
  nextRequest(): Promise<{ req: IncomingMessage; res: ServerResponse }>;
  /** Resolves when a request's connection closes before it was answered. */
  nextAbandon(): Promise<void>;
  close(): Promise<void>;
}

export function status(code: number, body = `status ${code}`, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };
}

/** Never answers: the request stays open until the client gives up. */
export const hang: Handler = () => undefined;

export async function startDownstream(): Promise<Downstream> {
  let handlers: Handler[] = [status(200, 'ok')];
  let requests = 0;
  let abandoned = 0;
  const bodies: string[] = [];
  let requestWaiters: ((r: { req: IncomingMessage; res: ServerResponse }) => void)[] = [];
  let abandonWaiters: (() => void)[] = [];

  const server: Server = createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      res.on('close', () => {
        if (res.writableFinished) return;
        abandoned++;
        const waiters = abandonWaiters;
        abandonWaiters = [];
        for (const w of waiters) w();
      });
      const handler = handlers.length > 1 ? (handlers.shift() as Handler) : handlers[0];
      handler(req, res, body);
      const waiters = requestWaiters;
      requestWaiters = [];
      for (const w of waiters) w({ req, res });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    bodies,
    get abandoned() {
      return abandoned;
    },
    respond(handler) {
      handlers = [handler];
    },
    sequence(...list) {
      if (list.length === 0) throw new Error('sequence needs at least one handler');
      handlers = list;
    },
    nextRequest() {
      return new Promise((resolve) => requestWaiters.push(resolve));
    },
    nextAbandon() {
      return new Promise((resolve) => abandonWaiters.push(resolve));
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

/** An origin nobody listens on: a server is started on port 0 and closed again. */
export async function refusingOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
