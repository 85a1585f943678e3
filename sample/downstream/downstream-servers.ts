import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ChaosServer, type ChaosMode, type ChaosStatus, type JsonHandler } from './chaos-server';
import { inventoryApi } from './inventory-api';
import { requestJson } from './json-client';
import { paymentApi } from './payment-api';

export type DownstreamName = 'payment' | 'inventory';
export const DOWNSTREAM_NAMES: readonly DownstreamName[] = ['payment', 'inventory'];

/** Start a local downstream on `port` (0 = any free port), or use one already running at `url`. */
export type DownstreamTarget = { port: number } | { url: string };
export type DownstreamTargets = Record<DownstreamName, DownstreamTarget>;
export const DOWNSTREAM_TARGETS = Symbol('DOWNSTREAM_TARGETS');

const APIS: Record<DownstreamName, () => JsonHandler> = { payment: paymentApi, inventory: inventoryApi };

/**
 * The shop's two downstream APIs. Local ones are real HTTP servers started with the app and closed with
 * it; chaos switches always go over HTTP (`/_chaos`), so they work the same for a downstream another
 * instance started (a fleet sharing one payment API).
 */
@Injectable()
export class DownstreamServers implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Downstream');
  private readonly servers: ChaosServer[] = [];
  private readonly urls = new Map<DownstreamName, string>();

  constructor(@Inject(DOWNSTREAM_TARGETS) private readonly targets: DownstreamTargets) {}

  async onModuleInit(): Promise<void> {
    for (const name of DOWNSTREAM_NAMES) {
      const target = this.targets[name];
      if ('url' in target) {
        this.urls.set(name, target.url.replace(/\/+$/, ''));
        continue;
      }
      const server = new ChaosServer(name, APIS[name]());
      this.servers.push(server);
      this.urls.set(name, await server.listen(target.port));
      this.logger.log(`${name} API listening on ${this.url(name)}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((server) => server.close()));
  }

  /** Base URL of a downstream (no trailing slash). */
  url(name: DownstreamName): string {
    const url = this.urls.get(name);
    if (url === undefined) throw new Error(`downstream "${name}" is not started yet`);
    return url;
  }

  /** Switches how a downstream answers. */
  setMode(name: DownstreamName, mode: ChaosMode): Promise<ChaosStatus> {
    return requestJson<ChaosStatus>(name, `${this.url(name)}/_chaos/${mode}`, { method: 'POST' });
  }

  /** Breaks (`fail`) or heals (`heal`) one merchant's requests on a downstream; the others are untouched. */
  setMerchantMode(name: DownstreamName, merchantId: string, action: 'fail' | 'heal'): Promise<unknown> {
    const url = `${this.url(name)}/_chaos/merchants/${encodeURIComponent(merchantId)}/${action}`;
    return requestJson<unknown>(name, url, { method: 'POST' });
  }

  /** Every downstream's mode and request counts. */
  async status(): Promise<Record<DownstreamName, ChaosStatus & { url: string }>> {
    const entries = await Promise.all(
      DOWNSTREAM_NAMES.map(async (name) => {
        const status = await requestJson<ChaosStatus>(name, `${this.url(name)}/_chaos`);
        return [name, { url: this.url(name), ...status }] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<DownstreamName, ChaosStatus & { url: string }>;
  }
}
