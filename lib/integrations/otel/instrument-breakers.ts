import {
  diag,
  metrics,
  type Attributes,
  type BatchObservableResult,
  type Histogram,
  type Meter,
  type MeterProvider,
  type Observable,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Breaker } from '../../core/breaker';
import { BreakerConfigError } from '../../core/errors';
import { describeValue } from '../../core/options';
import type { BreakerRegistry } from '../../core/registry';
import type { BreakerEvent } from '../../core/types';
import { BreakerSpanEvents } from './breaker-span-events';
import { BreakerTally } from './breaker-tally';
import { errorType, TIMEOUT_ERROR_TYPE } from './error-type';

/** The instrumentation scope's name (what a `View` or an exporter sees as the meter's and tracer's name). */
export const INSTRUMENTATION_SCOPE = 'nestjs-breaker';

/**
 * Default bucket bounds (seconds) of `circuit_breaker.call.duration`, handed to the SDK as advice (a
 * `View` may replace them): the bounds OpenTelemetry's semantic conventions give HTTP durations.
 */
export const DEFAULT_CALL_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/**
 * Where the breaker metrics and span events go.
 *
 * @example
 * // metrics to this provider, no span events, no per-call histogram
 * instrumentBreakers(registry, { meterProvider, tracerProvider: false, callDuration: true });
 */
export interface BreakerInstrumentationOptions {
  /** Default: the global one (`metrics.getMeterProvider()`, as registered by the SDK). */
  meterProvider?: MeterProvider;
  /**
   * Only used for a state change made while no span is active (it gets a short span of its own); other
   * events go on the active span whoever made it. Default: the global one. `false`: no span events at all.
   */
  tracerProvider?: TracerProvider | false;
  /**
   * Record `circuit_breaker.call.duration`. Default false: every call would then read the clock at its start
   * and end and record into the SDK's histogram, which costs several microseconds per call (the SDK hashes the
   * attributes and looks up the context on each `record()`), many times what the breaker itself adds. The
   * counters, the gauge and the span events cost a call nothing; turn this on where that price is acceptable.
   *
   * @example
   * instrumentBreakers(registry, { callDuration: true });
   */
  callDuration?: boolean;
}

/** What `instrumentBreakers` returns: stops the instrumentation (the Nest module calls it on `app.close()`). */
export interface BreakerInstrumentation {
  /** Detaches from every breaker and the registry and stops reporting metrics. Idempotent. */
  dispose(): void;
}

const OPTION_KEYS = ['meterProvider', 'tracerProvider', 'callDuration'];

/**
 * Reports a registry's breakers to OpenTelemetry: metrics read from the breakers' own cumulative counts at
 * collection time (a call pays nothing for them), a call duration histogram, and span events for
 * rejections, fallbacks and state changes on the active span. Breakers the registry creates later are
 * instrumented as they appear.
 *
 * @example
 * import { BreakerRegistry } from 'nestjs-breaker/core';
 * import { instrumentBreakers } from 'nestjs-breaker/otel';
 *
 * const registry = new BreakerRegistry({ breakers: { payment: { failureThreshold: 3 } } });
 * const instrumentation = instrumentBreakers(registry); // global meter and tracer providers
 * // ... on shutdown:
 * instrumentation.dispose();
 */
export function instrumentBreakers(
  registry: BreakerRegistry,
  options: BreakerInstrumentationOptions = {},
): BreakerInstrumentation {
  const checked = checkOptions(options);
  const meterProvider = checked.meterProvider ?? metrics.getMeterProvider();
  const spans = checked.tracerProvider === false ? undefined : new BreakerSpanEvents(checked.tracerProvider);
  return new RegistryInstrumentation(
    registry,
    meterProvider.getMeter(INSTRUMENTATION_SCOPE),
    spans,
    checked.callDuration === true,
  );
}

class RegistryInstrumentation implements BreakerInstrumentation {
  private readonly tallies = new Map<string, BreakerTally>();
  private readonly calls: Observable;
  private readonly fallbacks: Observable;
  private readonly transitions: Observable;
  private readonly state: Observable;
  /** What one collection callback reports: every instrument but the histogram (recorded per call). */
  private readonly observables: Observable[];
  private readonly duration: Histogram | undefined;
  private readonly collect = (result: BatchObservableResult): void => this.observe(result);
  private stopCreated: (() => void) | undefined;
  private listenerFailed = false;

  constructor(
    private readonly registry: BreakerRegistry,
    private readonly meter: Meter,
    private readonly spans: BreakerSpanEvents | undefined,
    callDuration: boolean,
  ) {
    this.calls = meter.createObservableCounter('circuit_breaker.calls', {
      description:
        'Calls that reached the circuit breaker, by outcome (disjoint: their sum is every settled call); failures carry error.type.',
      unit: '{call}',
    });
    this.fallbacks = meter.createObservableCounter('circuit_breaker.fallbacks', {
      description: 'Calls answered by a fallback.',
      unit: '{call}',
    });
    this.transitions = meter.createObservableCounter('circuit_breaker.transitions', {
      description: 'State transitions of the circuit breaker, by from and to state.',
      unit: '{transition}',
    });
    this.state = meter.createObservableGauge('circuit_breaker.state', {
      description: 'Circuit breaker state: 1 for the current state, 0 for the states it has left.',
      unit: '1',
    });
    this.duration = callDuration
      ? meter.createHistogram('circuit_breaker.call.duration', {
          description: 'Duration of the calls that ran through the circuit breaker (successful and failed).',
          unit: 's',
          advice: { explicitBucketBoundaries: [...DEFAULT_CALL_DURATION_BUCKETS] },
        })
      : undefined;
    this.observables = [this.calls, this.fallbacks, this.transitions, this.state];
    meter.addBatchObservableCallback(this.collect, this.observables);
    this.stopCreated = registry.onBreakerCreated((breaker) => this.attach(breaker));
    for (const name of registry.names()) this.attach(registry.get(name));
  }

  dispose(): void {
    if (this.stopCreated === undefined) return;
    this.stopCreated();
    this.stopCreated = undefined;
    this.meter.removeBatchObservableCallback(this.collect, this.observables);
    for (const tally of this.tallies.values()) {
      tally.detach?.();
      tally.detach = undefined;
    }
  }

  private tallyFor(name: string): BreakerTally {
    let tally = this.tallies.get(name);
    if (tally === undefined) {
      tally = new BreakerTally(name);
      this.tallies.set(name, tally);
    }
    return tally;
  }

  /** Instruments a breaker; when it takes over a name (`register()`), its predecessor's counts are carried. */
  private attach(breaker: Breaker): void {
    const tally = this.tallyFor(breaker.name);
    if (tally.breaker === breaker) return;
    if (tally.breaker !== undefined) {
      tally.detach?.();
      tally.carry(tally.breaker.snapshot());
    }
    tally.breaker = breaker;
    const stopEvents = breaker.observeNotableEvents((event) => this.onEvent(tally, breaker, event));
    const histogram = this.duration;
    if (histogram === undefined) {
      tally.detach = stopEvents;
      return;
    }
    const succeeded = tally.outcome('success');
    const failed = tally.outcome('failure');
    const stopDurations = breaker.observeDurations({
      observe: (ms, failure) => histogram.record(ms / 1000, failure ? failed : succeeded),
    });
    tally.detach = () => {
      stopEvents();
      stopDurations();
    };
  }

  /** Runs inside the call that caused the event: it must never throw into it. */
  private onEvent(tally: BreakerTally, breaker: Breaker, event: BreakerEvent): void {
    try {
      if (event.type === 'failure') {
        const type = errorType(event.error);
        // A CallTimeoutError thrown by fn itself (not the breaker's own timeout): counted with timeouts'
        // name, yet the snapshot's `timeouts` does not include it, so it is kept apart from them here.
        tally.countFailure(type === TIMEOUT_ERROR_TYPE ? 'CallTimeoutError' : type);
      } else if (event.type === 'state_change' && event.from !== undefined && event.to !== undefined) {
        tally.countTransition(event.from, event.to);
        tally.sawState(event.from);
        tally.sawState(event.to);
      }
      this.spans?.record(breaker, event);
    } catch (error) {
      if (!this.listenerFailed) {
        this.listenerFailed = true;
        diag.error(`nestjs-breaker: OpenTelemetry instrumentation failed on a "${event.type}" event`, error);
      }
    }
  }

  /** One pass over the registry per collection, for every observable instrument at once. */
  private observe(result: BatchObservableResult): void {
    const snapshots = this.registry.metrics();
    for (const name in snapshots) {
      const snapshot = snapshots[name];
      const tally = this.tallyFor(name);
      const total = tally.totals(snapshot);
      // Counters start reporting at their first non-zero value (absent reads as 0): most breakers only ever
      // succeed, and every series counts against the SDK's per-instrument limit.
      const calls = this.calls;
      observeCount(result, calls, total.success, tally.outcome('success'));
      for (const [type, count] of tally.failureSplit(total)) {
        observeCount(result, calls, count, tally.outcome('failure', type));
      }
      observeCount(result, calls, total.ignored, tally.outcome('ignored'));
      observeCount(result, calls, total.rejected, tally.outcome('rejected'));
      observeCount(result, calls, total.throttled, tally.outcome('throttled'));
      observeCount(result, calls, total.cancelled, tally.outcome('cancelled'));
      observeCount(result, this.fallbacks, total.fallbacks, tally.series);
      for (const [attributes, count] of tally.transitionSeries()) {
        result.observe(this.transitions, count, attributes);
      }
      for (const [state, attributes] of tally.statesToReport(snapshot.state)) {
        result.observe(this.state, state === snapshot.state ? 1 : 0, attributes);
      }
    }
  }
}

function observeCount(
  result: BatchObservableResult,
  counter: Observable,
  count: number,
  attributes: Attributes,
): void {
  if (count > 0) result.observe(counter, count, attributes);
}

function checkOptions(options: unknown): BreakerInstrumentationOptions {
  const fail = (message: string): never => {
    throw new BreakerConfigError(`instrumentBreakers: ${message}`);
  };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(`options must be an object { ${OPTION_KEYS.join('?, ')}? }, got ${describeValue(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.includes(key)) fail(`unknown option "${key}" (known: ${OPTION_KEYS.join(', ')})`);
  }
  const meterProvider = o.meterProvider as { getMeter?: unknown } | undefined;
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    fail(
      `meterProvider must be an OpenTelemetry MeterProvider (with getMeter()), got ${describeValue(o.meterProvider)}`,
    );
  }
  const tracerProvider = o.tracerProvider as { getTracer?: unknown } | false | undefined;
  if (
    tracerProvider !== undefined &&
    tracerProvider !== false &&
    typeof tracerProvider?.getTracer !== 'function'
  ) {
    fail(
      `tracerProvider must be an OpenTelemetry TracerProvider (with getTracer()) or false, got ${describeValue(o.tracerProvider)}`,
    );
  }
  if (o.callDuration !== undefined && typeof o.callDuration !== 'boolean') {
    fail(`callDuration must be true or false, got ${describeValue(o.callDuration)}`);
  }
  return o as BreakerInstrumentationOptions;
}
