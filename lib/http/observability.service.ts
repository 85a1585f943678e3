import {
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { EMPTY, ReplaySubject, defer, finalize, type Observable } from 'rxjs';
import { BreakerConfigError } from '../core/errors';
import { describeValue } from '../core/options';
import { failModuleOption as fail } from '../nest/circuit-breaker-options';
import { CIRCUIT_BREAKER_OPTIONS } from '../nest/circuit-breaker.constants';
import { CircuitBreakerRegistry } from '../nest/circuit-breaker.registry';
import type { CircuitBreakerModuleOptions } from '../nest/interfaces/circuit-breaker-module-options.interface';
import { BreakerMetricsCollector } from './prometheus/collector';
import {
  defaultPromRegistry,
  registerWithPromClient,
  type PromRegistryLike,
} from './prometheus/client-bridge';
import { breakerEventStream, sharedHeartbeat } from './event-stream';

/** Default interval of the comment lines that keep an idle event stream open through proxies. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Default cap on concurrent event streams (`events.maxClients`). */
export const DEFAULT_MAX_EVENT_CLIENTS = 100;

const METRICS_KEYS = ['prefix', 'buckets', 'promRegistry'];
const EVENTS_KEYS = ['heartbeatMs', 'maxClients'];

/**
 * The metrics collector and the event streams of one module registration. Its collector is attached to
 * every breaker from bootstrap on (the histogram must see calls made before the first scrape) and is
 * registered in prom-client when the application has it; at shutdown it ends every open event stream
 * (an open stream would otherwise hold the HTTP server open) and detaches from the breakers.
 */
@Injectable()
export class CircuitBreakerObservability implements OnApplicationBootstrap, OnModuleDestroy {
  readonly collector: BreakerMetricsCollector;
  readonly heartbeatMs: number;
  readonly maxClients: number;
  private readonly heartbeats: Observable<number>;
  private streams = 0;
  private readonly closing = new ReplaySubject<void>(1);
  private closed = false;
  private unregisterProm: (() => void) | undefined;
  private readonly promRegistry: PromRegistryLike | false | undefined;

  constructor(
    private readonly registry: CircuitBreakerRegistry,
    @Inject(CIRCUIT_BREAKER_OPTIONS) options: CircuitBreakerModuleOptions | undefined,
  ) {
    const metrics = checkKeys('metrics', options?.metrics, METRICS_KEYS);
    const events = checkKeys('events', options?.events, EVENTS_KEYS);
    const heartbeatMs = events?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (typeof heartbeatMs !== 'number' || !Number.isInteger(heartbeatMs) || heartbeatMs < 1) {
      fail(`events.heartbeatMs must be a whole number of ms >= 1, got ${describeValue(heartbeatMs)}`);
    }
    this.heartbeatMs = heartbeatMs;
    this.heartbeats = sharedHeartbeat(heartbeatMs);
    const maxClients = events?.maxClients ?? DEFAULT_MAX_EVENT_CLIENTS;
    if (typeof maxClients !== 'number' || !Number.isInteger(maxClients) || maxClients < 1) {
      fail(`events.maxClients must be a whole number >= 1, got ${describeValue(maxClients)}`);
    }
    this.maxClients = maxClients;
    const promRegistry = metrics?.promRegistry;
    if (promRegistry !== undefined && promRegistry !== false && !isPromRegistry(promRegistry)) {
      fail(
        `metrics.promRegistry must be a prom-client Registry (or false), got ${describeValue(promRegistry)}`,
      );
    }
    try {
      this.collector = new BreakerMetricsCollector(registry, {
        prefix: metrics?.prefix,
        buckets: metrics?.buckets,
      });
    } catch (error) {
      if (error instanceof BreakerConfigError) fail(error.message);
      throw error;
    }
    this.promRegistry = promRegistry;
    this.collector.start();
  }

  /**
   * Joins prom-client only once the application has bootstrapped: an app whose bootstrap fails is never
   * closed, and must not leave its metrics in a process-wide registry.
   */
  onApplicationBootstrap(): void {
    if (this.closed || this.promRegistry === false) return;
    if (this.promRegistry !== undefined) {
      // A registry the application chose: a name clash there is its configuration error.
      this.unregisterProm = registerWithPromClient(this.collector, this.promRegistry);
      return;
    }
    const target = defaultPromRegistry();
    if (target === undefined) return;
    try {
      this.unregisterProm = registerWithPromClient(this.collector, target);
    } catch (error) {
      // Another application in this process (tests often run several) already exports these names in the
      // default registry. This app's own route still serves its metrics; say so rather than fail to start.
      new Logger('CircuitBreaker').warn(
        `${(error as Error).message}. This application's breakers are served only at its own metrics route.`,
      );
    }
  }

  /** Prometheus text of every breaker. */
  renderMetrics(): string {
    return this.collector.render();
  }

  /** Event streams open now. */
  get openStreams(): number {
    return this.streams;
  }

  /**
   * One client's event stream: ends when the client leaves or the application closes. The slot is taken
   * when the stream is subscribed (a client that left before that takes none) and freed when it ends;
   * with `maxClients` streams open, subscribing calls `onFull` and errors with `full()` instead.
   */
  events(options: {
    exposeErrorMessages: boolean;
    onFull: () => void;
    full: () => Error;
  }): Observable<MessageEvent> {
    return defer(() => {
      if (this.closed) return EMPTY;
      if (this.streams >= this.maxClients) {
        options.onFull();
        throw options.full();
      }
      this.streams++;
      return breakerEventStream(this.registry.stateChanges$, {
        heartbeats: this.heartbeats,
        until: this.closing,
        exposeErrorMessages: options.exposeErrorMessages,
      }).pipe(finalize(() => this.streams--));
    });
  }

  onModuleDestroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing.next();
    this.closing.complete();
    this.unregisterProm?.();
    this.collector.dispose();
  }
}

function checkKeys<T extends object>(option: string, value: T | undefined, known: string[]): T | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`${option} must be an object { ${known.join('?, ')}? }, got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`unknown option "${option}.${key}" (known: ${known.join(', ')})`);
  }
  return value;
}

function isPromRegistry(value: unknown): value is PromRegistryLike {
  const r = value as Partial<Record<keyof PromRegistryLike, unknown>> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.registerMetric === 'function' &&
    typeof r.getSingleMetric === 'function' &&
    typeof r.removeSingleMetric === 'function'
  );
}
