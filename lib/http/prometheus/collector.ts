import type { Subscription } from 'rxjs';
import type { Breaker } from '../../core/breaker';
import { CircuitState } from '../../core/circuit-state';
import { BreakerConfigError } from '../../core/errors';
import type { BreakerRegistry } from '../../core/registry';
import type { BreakerEvent, BreakerSnapshot } from '../../core/types';
import {
  isValidMetricName,
  renderFamilies,
  type MetricFamily,
  type MetricSample,
  type MetricType,
} from './format';
import { DEFAULT_DURATION_BUCKETS, DurationHistogram, validateBuckets } from './histogram';
import { familyKeySamples } from './keys';

/** How the breaker metrics are named and measured. */
export interface BreakerMetricsOptions {
  /** Prepended to every metric name. Default `circuit_breaker_`. */
  prefix?: string;
  /**
   * Upper bounds (seconds) of the call duration histogram, or `false` for no histogram (then calls do not
   * read the clock for it). Default 5 ms … 10 s.
   */
  buckets?: readonly number[] | false;
}

const STATES = Object.values(CircuitState);

/** The `kind` label of `calls_total` and the snapshot counter behind each. */
const CALL_KINDS = [
  ['successful', 'successfulCalls'],
  ['failed', 'failedCalls'],
  ['ignored', 'ignoredCalls'],
  ['rejected', 'rejectedCalls'],
  ['timeout', 'timeouts'],
  ['fallback', 'fallbacks'],
  ['throttled', 'throttledCalls'],
] as const;

/** Snapshot counters a replaced breaker hands over to its name's series. */
type CounterKey = (typeof CALL_KINDS)[number][1] | 'retries';

/** Every family, in exposition order (the histogram only when buckets are configured). */
const FAMILIES = [
  {
    key: 'state',
    suffix: 'state',
    type: 'gauge',
    help: 'Circuit breaker state: 1 for the current state, 0 for the others.',
  },
  {
    key: 'calls',
    suffix: 'calls_total',
    type: 'counter',
    help: 'Calls that reached the circuit breaker, by outcome (timeouts are also counted as failed, throttled calls as rejected).',
  },
  {
    key: 'duration',
    suffix: 'call_duration_seconds',
    type: 'histogram',
    help: 'Duration of calls that ran through the circuit breaker (successful and failed), timed from the first scrape on.',
  },
  {
    key: 'failureRate',
    suffix: 'failure_rate',
    type: 'gauge',
    help: 'Percent of failed calls in the sliding window; -1 below minimumCalls or without a rate trip.',
  },
  {
    key: 'slowRate',
    suffix: 'slow_call_rate',
    type: 'gauge',
    help: 'Percent of slow calls in the sliding window; -1 below minimumCalls or without a rate trip.',
  },
  {
    key: 'throttleProbability',
    suffix: 'throttle_probability',
    type: 'gauge',
    help: 'Probability (0..1) that the adaptive throttle refuses the next call; 0 without the throttle option.',
  },
  {
    key: 'transitions',
    suffix: 'transitions_total',
    type: 'counter',
    help: 'State transitions of the circuit breaker, by from and to state.',
  },
  {
    key: 'retries',
    suffix: 'retries_total',
    type: 'counter',
    help: 'Attempts made again by the retry policy (each one is also counted in calls_total).',
  },
  {
    key: 'keys',
    suffix: 'keys',
    type: 'gauge',
    help: 'Keyed circuit breakers alive in a family, by state (forced_open counts as open).',
  },
  {
    key: 'keysEvicted',
    suffix: 'keys_evicted_total',
    type: 'counter',
    help: 'Keyed circuit breakers of a family evicted so far (idle, or to make room at keys.max).',
  },
] as const satisfies readonly { key: string; suffix: string; type: MetricType; help: string }[];

type FamilyKey = (typeof FAMILIES)[number]['key'];

/** What the collector keeps per breaker name (it outlives a breaker replaced through `register()`). */
interface NameState {
  breaker: Breaker | undefined;
  detach: (() => void) | undefined;
  histogram: DurationHistogram | undefined;
  /** Counters of breakers that held this name before: Prometheus counters must never go backwards. */
  carried: Record<CounterKey, number>;
  /** Transition counts keyed by `from` + NUL + `to`. */
  transitions: Map<string, number>;
}

/**
 * Reads a registry's breakers as Prometheus metric families: state, call counters, a duration histogram,
 * window rates and transition counts, each labelled by breaker name.
 *
 * Counters come from the breakers' cumulative snapshot counters (nothing extra is counted per call); the
 * histogram is fed through each breaker's `observeDurations()` hook, attached to every breaker the
 * registry holds or creates later (a breaker replaced by `register()` hands its name's series over).
 * Timing starts at the first read: an application that never scrapes never pays the two clock reads per
 * call it costs, and `rate()` over the histogram is unaffected by its later start.
 *
 * @example
 * const metrics = new BreakerMetricsCollector(registry, { prefix: 'svc_cb_' }).start();
 * response.end(metrics.render());
 */
export class BreakerMetricsCollector {
  readonly prefix: string;
  private readonly buckets: readonly number[] | undefined;
  private readonly names = new Map<string, NameState>();
  private stopCreated: (() => void) | undefined;
  private transitionsSubscription: Subscription | undefined;
  /** Durations are timed from the first read on: until then, calls skip the two clock reads it costs. */
  private timing = false;

  constructor(
    private readonly registry: BreakerRegistry,
    options: BreakerMetricsOptions = {},
  ) {
    const prefix = options.prefix ?? 'circuit_breaker_';
    if (typeof prefix !== 'string' || (prefix !== '' && !isValidMetricName(prefix))) {
      throw new BreakerConfigError(
        `metrics.prefix must be a valid Prometheus metric name prefix (letters, digits, _ and :, not starting with a digit), got ${JSON.stringify(prefix)}`,
      );
    }
    this.prefix = prefix;
    const buckets = options.buckets ?? DEFAULT_DURATION_BUCKETS;
    this.buckets = buckets === false ? undefined : validateBuckets(buckets, 'metrics.buckets');
  }

  /** Attaches to every breaker now and to every one created later. Idempotent. */
  start(): this {
    if (this.stopCreated !== undefined) return this;
    this.stopCreated = this.registry.onBreakerCreated((breaker) => this.attach(breaker));
    for (const name of this.registry.names()) this.attach(this.registry.get(name));
    this.transitionsSubscription = this.registry.stateChanges$.subscribe((event) =>
      this.countTransition(event),
    );
    return this;
  }

  /** Detaches from every breaker (they stop timing calls for us) and from the registry. */
  dispose(): void {
    this.stopCreated?.();
    this.stopCreated = undefined;
    this.transitionsSubscription?.unsubscribe();
    this.transitionsSubscription = undefined;
    for (const state of this.names.values()) {
      state.detach?.();
      state.detach = undefined;
    }
    this.timing = false;
  }

  /** The whole exposition document. */
  render(): string {
    return renderFamilies(this.collect());
  }

  /** Every metric family, read now. */
  collect(): MetricFamily[] {
    if (!this.timing && this.stopCreated !== undefined) this.startTiming();
    const p = this.prefix;
    const stateValues: MetricSample[] = [];
    const callValues: MetricSample[] = [];
    const durationValues: MetricSample[] = [];
    const failureRates: MetricSample[] = [];
    const slowRates: MetricSample[] = [];
    const throttleProbabilities: MetricSample[] = [];
    const transitionValues: MetricSample[] = [];
    const retryValues: MetricSample[] = [];
    const bucketLabels = this.buckets?.map(String).concat('+Inf');
    const snapshots = this.registry.metrics();
    for (const name in snapshots) {
      const snapshot = snapshots[name];
      const state = this.names.get(name);
      for (const s of STATES) {
        stateValues.push({ labels: { name, state: s }, value: s === snapshot.state ? 1 : 0 });
      }
      for (const [kind, key] of CALL_KINDS) {
        const value = snapshot[key] + (state === undefined ? 0 : state.carried[key]);
        callValues.push({ labels: { name, kind }, value });
      }
      const histogram = state?.histogram;
      if (histogram !== undefined && bucketLabels !== undefined) {
        const cumulative = histogram.cumulative();
        for (let i = 0; i < cumulative.length; i++) {
          durationValues.push({
            labels: { name, le: bucketLabels[i] },
            value: cumulative[i],
            metricName: `${p}call_duration_seconds_bucket`,
          });
        }
        durationValues.push(
          { labels: { name }, value: histogram.sum, metricName: `${p}call_duration_seconds_sum` },
          { labels: { name }, value: histogram.count, metricName: `${p}call_duration_seconds_count` },
        );
      }
      retryValues.push({ labels: { name }, value: snapshot.retries + (state?.carried.retries ?? 0) });
      failureRates.push({ labels: { name }, value: snapshot.failureRate });
      slowRates.push({ labels: { name }, value: snapshot.slowCallRate });
      throttleProbabilities.push({ labels: { name }, value: snapshot.throttleProbability });
      if (state !== undefined) {
        for (const [key, value] of state.transitions) {
          const cut = key.indexOf('\0');
          transitionValues.push({ labels: { name, from: key.slice(0, cut), to: key.slice(cut + 1) }, value });
        }
      }
    }
    const keyed = familyKeySamples(this.registry, snapshots, CALL_KINDS);
    return this.families({
      state: stateValues.concat(keyed.keyStates),
      calls: callValues.concat(keyed.keyCalls),
      duration: durationValues,
      failureRate: failureRates,
      slowRate: slowRates,
      throttleProbability: throttleProbabilities,
      transitions: transitionValues,
      retries: retryValues,
      keys: keyed.keys,
      keysEvicted: keyed.evicted,
    });
  }

  /** The families (names, help, types) without reading any breaker: what a registry registers up front. */
  describe(): MetricFamily[] {
    return this.families({
      state: [],
      calls: [],
      duration: [],
      failureRate: [],
      slowRate: [],
      throttleProbability: [],
      transitions: [],
      retries: [],
      keys: [],
      keysEvicted: [],
    });
  }

  private families(values: Record<FamilyKey, MetricSample[]>): MetricFamily[] {
    return FAMILIES.filter((f) => f.key !== 'duration' || this.buckets !== undefined).map((f) => ({
      name: this.prefix + f.suffix,
      help: f.help,
      type: f.type,
      values: values[f.key],
    }));
  }

  private stateFor(name: string): NameState {
    let state = this.names.get(name);
    if (state === undefined) {
      state = {
        breaker: undefined,
        detach: undefined,
        histogram: this.buckets === undefined ? undefined : new DurationHistogram(this.buckets),
        carried: {
          successfulCalls: 0,
          failedCalls: 0,
          ignoredCalls: 0,
          rejectedCalls: 0,
          timeouts: 0,
          fallbacks: 0,
          retries: 0,
          throttledCalls: 0,
        },
        transitions: new Map(),
      };
      this.names.set(name, state);
    }
    return state;
  }

  private attach(breaker: Breaker): void {
    const state = this.stateFor(breaker.name);
    if (state.breaker === breaker) return;
    const previous = state.breaker;
    if (previous !== undefined) {
      // The name is being taken over by a new breaker (register()): keep its counts in the series.
      state.detach?.();
      state.detach = undefined;
      const last: BreakerSnapshot = previous.snapshot();
      for (const [, key] of CALL_KINDS) state.carried[key] += last[key];
      state.carried.retries += last.retries;
    }
    state.breaker = breaker;
    if (this.timing) this.timeCalls(state);
  }

  private startTiming(): void {
    this.timing = true;
    for (const state of this.names.values()) this.timeCalls(state);
  }

  private timeCalls(state: NameState): void {
    if (state.histogram !== undefined && state.breaker !== undefined && state.detach === undefined) {
      state.detach = state.breaker.observeDurations(state.histogram);
    }
  }

  private countTransition(event: BreakerEvent): void {
    if (event.from === undefined || event.to === undefined) return;
    const transitions = this.stateFor(event.name).transitions;
    const key = `${event.from}\0${event.to}`;
    transitions.set(key, (transitions.get(key) ?? 0) + 1);
  }
}
