// Real Nest apps on a real port (Express or Fastify) and a real HTTP client for the observability specs.
import { type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import http from 'node:http';
import { CircuitBreakerModule, CircuitBreakerRegistry, type CircuitBreakerModuleOptions } from '../../lib';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

export interface RunningApp {
  app: INestApplication;
  registry: CircuitBreakerRegistry;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Boots the module (plus `extra` metadata) on a real port. */
export async function bootApp(
  platform: Platform,
  options: CircuitBreakerModuleOptions = {},
  extra: ModuleMetadata = {},
): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [CircuitBreakerModule.forRoot(options), ...(extra.imports ?? [])],
    controllers: extra.controllers ?? [],
    providers: extra.providers ?? [],
  }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter())
      : moduleRef.createNestApplication({ logger: false });
  if (platform === 'fastify') app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    registry: app.get(CircuitBreakerRegistry),
    url: `http://127.0.0.1:${address.port}`,
    close: () => app.close(),
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with a fresh connection (no keep-alive), body read to the end; `json` is sent as JSON. */
export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers = { ...init.headers };
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const req = http.request(url, { method: init.method ?? 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.json === undefined ? undefined : JSON.stringify(init.json));
  });
}

/** An open server-sent events connection that collects what arrives. */
export interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Everything received so far. */
  readonly text: string;
  /** Resolves once `predicate(text)` holds (checked on every chunk). */
  until(predicate: (text: string) => boolean): Promise<string>;
  /** Resolves when the server ends the response. */
  ended: Promise<void>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      url,
      { agent: false, headers: { accept: 'text/event-stream', ...headers } },
      (res) => {
        let text = '';
        const waiters: { predicate: (t: string) => boolean; resolve: (t: string) => void }[] = [];
        let endResolve!: () => void;
        const ended = new Promise<void>((r) => (endResolve = r));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          for (const w of [...waiters]) {
            if (w.predicate(text)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(text);
            }
          }
        });
        res.on('end', endResolve);
        res.on('close', endResolve);
        res.on('error', () => undefined);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          get text() {
            return text;
          },
          until: (predicate) =>
            predicate(text)
              ? Promise.resolve(text)
              : new Promise((r) => waiters.push({ predicate, resolve: r })),
          ended,
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') reject(error);
    });
  });
}

/** Parses complete SSE blocks into `{ event, data, id, comments }` records. */
export function sseRecords(
  text: string,
): { event?: string; data?: string; id?: string; comments: string[] }[] {
  const blocks = text.split('\n\n').slice(0, -1);
  const out: { event?: string; data?: string; id?: string; comments: string[] }[] = [];
  for (const block of blocks) {
    const record: { event?: string; data?: string; id?: string; comments: string[] } = { comments: [] };
    let any = false;
    for (const line of block.split('\n')) {
      if (line === '') continue;
      any = true;
      if (line.startsWith(':')) record.comments.push(line.slice(1).trim());
      else {
        const cut = line.indexOf(':');
        const field = line.slice(0, cut);
        const value = line.slice(cut + 1).replace(/^ /, '');
        if (field === 'data') record.data = record.data === undefined ? value : `${record.data}\n${value}`;
        else if (field === 'event') record.event = value;
        else if (field === 'id') record.id = value;
      }
    }
    if (any) out.push(record);
  }
  return out;
}

/** Resolves once `condition()` holds, re-checking every millisecond (the server runs in this process). */
export async function eventually(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise<void>((r) => setTimeout(r, 1));
  }
}
