// The chaos run's upstream: a small Nest app (Express) in front of real downstreams, the way the sample
// shop calls its APIs. Every route makes the same downstream call (each setup to its own downstream,
// CHAOS_DOWNSTREAMS = {"<setup>": "http://127.0.0.1:<port>"}); they differ only in what protects it:
//   GET /call/off            no breaker at all (the "breakers off" switch)
//   GET /call/none           no breaker either (the comparison's baseline, its own downstream)
//   GET /call/on             the breaker of the chaos run: trips, call timeout (see SETUPS)
//   GET /call/classic        the classic breaker of the partial-outage comparison (rate trip 50 %)
//   GET /call/throttle-k2    adaptive throttle, k = 2
//   GET /call/throttle-k1.5  adaptive throttle, k = 1.5
// Between runs the driver resets a breaker with POST /circuit-breakers/<setup>/reset (listening on
// 127.0.0.1 only). Run by bench/chaos/run.mjs in a child process (ts-node); prints {"port": N}.
import 'reflect-metadata';
import {
  BadGatewayException,
  Controller,
  Get,
  GatewayTimeoutException,
  Inject,
  Injectable,
  NotFoundException,
  Param,
  type INestApplication,
} from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  breakerSignal,
  CallTimeoutError,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  type BreakerOptions,
} from '../../lib';

/**
 * The breakers, with every duration scaled down about 10x from production values so that a phase of a
 * few seconds holds several windows and openings (the README table says so next to the figures).
 */
export const SETUPS: Record<string, BreakerOptions> = {
  // The chaos run's breaker: 5 failures in a row or 50 % of the last 5 s (at least 20 calls) open it
  // for 2 s; a call still running after 1 s is a failure (its request is aborted).
  on: {
    failureThreshold: 5,
    failureRateThreshold: 50,
    minimumCalls: 20,
    window: { type: 'time', sizeMs: 5_000, buckets: 10 },
    halfOpenAfterMs: 2_000,
    successThreshold: 2,
    callTimeoutMs: 1_000,
  },
  // The comparison's setups all look back 2 s (30x shorter than the usual 60 s, so that an outage of a
  // few seconds holds several windows). Classic: the rate trip alone (50 %, at least 20 calls).
  classic: {
    failureThreshold: Infinity,
    failureRateThreshold: 50,
    minimumCalls: 20,
    window: { type: 'time', sizeMs: 2_000, buckets: 10 },
    halfOpenAfterMs: 2_000,
    successThreshold: 2,
  },
  'throttle-k2': { failureThreshold: Infinity, throttle: { k: 2, windowMs: 2_000 } },
  'throttle-k1.5': { failureThreshold: Infinity, throttle: { k: 1.5, windowMs: 2_000 } },
};

/** Each setup's downstream base URL. */
function readDownstreams(raw: string | undefined): Record<string, string> {
  const urls: unknown = JSON.parse(raw ?? '{}');
  const ok =
    urls !== null &&
    typeof urls === 'object' &&
    Object.values(urls).every((u) => typeof u === 'string' && /^http:\/\/127\.0\.0\.1:\d+$/.test(u));
  if (!ok) throw new Error(`CHAOS_DOWNSTREAMS must map setups to http://127.0.0.1:<port>, got ${raw}`);
  return urls as Record<string, string>;
}

const DOWNSTREAMS = readDownstreams(process.env.CHAOS_DOWNSTREAMS);

@Injectable()
class DownstreamClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  /** GET /item on `base`: resolves on 200, rejects with a 502 on any other answer. */
  get(base: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}/item`, { agent: this.agent, signal }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new BadGatewayException(`downstream answered ${res.statusCode}`)),
        );
        res.on('error', reject);
      });
      req.on('error', (error) => reject(new BadGatewayException(`downstream unreachable: ${error.message}`)));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

@Controller('call')
class CallController {
  constructor(
    @Inject(DownstreamClient) private readonly downstream: DownstreamClient,
    @Inject(CircuitBreakerRegistry) private readonly breakers: CircuitBreakerRegistry,
  ) {}

  @Get(':setup')
  async call(@Param('setup') setup: string): Promise<{ ok: true }> {
    const base = Object.hasOwn(DOWNSTREAMS, setup) ? DOWNSTREAMS[setup] : undefined;
    if (base === undefined) throw new NotFoundException(`no setup "${setup}"`);
    if (setup === 'off' || setup === 'none') {
      await this.downstream.get(base);
      return { ok: true };
    }
    try {
      // A CircuitOpenError (open circuit or throttled call) goes on to the module's filter: 503.
      await this.breakers.get(setup).executePromise(() => this.downstream.get(base, breakerSignal()));
    } catch (error) {
      if (error instanceof CallTimeoutError) throw new GatewayTimeoutException(error.message);
      throw error;
    }
    return { ok: true };
  }
}

@Module({
  imports: [CircuitBreakerModule.forRoot({ breakers: SETUPS, http: { control: true } })],
  controllers: [CallController],
  providers: [DownstreamClient],
})
class ChaosAppModule {}

async function main(): Promise<void> {
  const app: INestApplication = await NestFactory.create(ChaosAppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as http.Server).address() as AddressInfo;
  process.stdout.write(JSON.stringify({ port }) + '\n');
  const stop = async () => {
    app.get(DownstreamClient).close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  // The driver going away (its pipe closing) stops this app too: nothing outlives the run.
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
