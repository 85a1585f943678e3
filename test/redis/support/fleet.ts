import { fork, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

export type Behaviour = 'ok' | 'fail' | 'hold';

/**
 * The real HTTP downstream the fleet calls: per path it answers 200, answers 500, or holds requests
 * until released. It counts every request it receives.
 */
export class Downstream {
  readonly hits = new Map<string, number>();
  private readonly behaviour = new Map<string, Behaviour>();
  private held: ServerResponse[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Downstream> {
    const handler: { target?: Downstream } = {};
    const server = createServer((req, res) => handler.target?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    handler.target = new Downstream(server, `http://127.0.0.1:${port}`);
    return handler.target;
  }

  set(path: string, behaviour: Behaviour): void {
    this.behaviour.set(path, behaviour);
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  /** Answers every held request with 200. */
  release(): void {
    for (const res of this.held.splice(0)) res.writeHead(200).end('ok');
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent((req.url ?? '/').slice(1));
    this.hits.set(path, this.count(path) + 1);
    const behaviour = this.behaviour.get(path) ?? 'ok';
    if (behaviour === 'hold') this.held.push(res);
    else if (behaviour === 'fail') res.writeHead(500).end('down');
    else res.writeHead(200).end('ok');
  }
}

export interface StateEvent {
  type: 'state';
  name: string;
  from: string;
  to: string;
  reason: string;
  /** Date.now() in the child when the transition happened (one machine: comparable across processes). */
  realAt: number;
}

export interface CallResult {
  status: number;
  body: { ok?: boolean; open?: boolean; error?: string; waitedMs: number; state?: string };
}

/** One Nest app instance running in its own process (support/fleet-instance.ts). */
export class FleetInstance {
  readonly events: StateEvent[] = [];
  private port = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly label: string,
  ) {}

  static start(label: string, env: Record<string, string>): Promise<FleetInstance> {
    const child = fork(join(__dirname, 'fleet-instance.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: {
        ...process.env,
        LABEL: label,
        TS_NODE_PROJECT: join(__dirname, '../../../tsconfig.json'),
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const instance = new FleetInstance(child, label);
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${label} exited (${code}) before it was ready`)));
      child.on('message', (message: { type: 'ready'; port: number } | StateEvent) => {
        if (message.type === 'ready') {
          instance.port = message.port;
          resolve(instance);
        } else instance.events.push(message);
      });
    });
  }

  /** When `name` last turned `to` (real time), if it did. */
  lastTransition(name: string, to: string): StateEvent | undefined {
    return this.events.filter((e) => e.name === name && e.to === to).at(-1);
  }

  call(name: string): Promise<CallResult> {
    return this.http('GET', `/call/${encodeURIComponent(name)}`) as Promise<CallResult>;
  }

  async state(name: string): Promise<
    Record<string, unknown> & {
      state: string;
      store: string;
      retryAfterMs: number;
      bufferedCalls: number;
      warnings: number;
    }
  > {
    return (await this.http('GET', `/state/${encodeURIComponent(name)}`)).body as never;
  }

  /** The module's own control route (`http.control: true`). */
  async control(name: string, action: string): Promise<void> {
    const { status } = await this.http('POST', `/circuit-breakers/${encodeURIComponent(name)}/${action}`);
    if (status !== 200) throw new Error(`${this.label}: ${action} answered ${status}`);
  }

  /**
   * Asks the instance to close its registry, store and server. Resolves true when the process then ended
   * by itself (nothing left open), false when it had to be killed.
   */
  async close(): Promise<boolean> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return true;
    return new Promise<boolean>((resolve) => {
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(!killed);
      });
      child.send({ type: 'close' });
    });
  }

  private http(method: string, path: string): Promise<{ status: number; body: never }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, method, path, agent: false }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as never }));
      });
      req.on('error', reject);
      req.end();
    });
  }
}
