import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { Registry } from 'prom-client';
import { BreakerConfigError, BreakerRegistry, CircuitState, ManualClock } from '../../lib/core';
import { BreakerMetricsCollector } from '../../lib/http/prometheus/collector';
import { registerWithPromClient } from '../../lib/http/prometheus/client-bridge';

class Boom extends Error {}
class NotMyFault extends Error {}

function parse(text: string): Map<string, ParsedFamily> {
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

/** The value of the sample whose labels are exactly `labels`, as a number. */
function value(family: ParsedFamily | undefined, labels: Record<string, string>): number | undefined {
  const sample = family?.metrics.find(
    (m) =>
      m.labels !== undefined &&
      Object.keys(m.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return sample?.value === undefined ? undefined : Number(sample.value);
}

/** A call that takes `ms` on the manual clock. */
function timed<T>(clock: ManualClock, ms: number, result: () => T): () => T {
  return () => {
    clock.advance(ms);
    return result();
  };
}

describe('Prometheus metrics of a registry', () => {
  let clock: ManualClock;
  let registry: BreakerRegistry;
  let collector: BreakerMetricsCollector;

  beforeEach(() => {
    clock = new ManualClock(1_000_000);
    registry = new BreakerRegistry({
      clock,
      defaults: { failureThreshold: 3, halfOpenAfterMs: 10_000, successThreshold: 1 },
      breakers: {
        payment: { ignoreErrors: [NotMyFault], fallback: { value: 'queued' } },
        idle: {
          failureRateThreshold: 50,
          slowCallDurationMs: 100,
          slowCallRateThreshold: 50,
          minimumCalls: 4,
        },
      },
    });
    collector = new BreakerMetricsCollector(registry).start();
    collector.collect(); // call durations are timed from the first scrape on
  });

  afterEach(() => collector.dispose());

  it('labels one state gauge per state: 1 for the current state, 0 for the others', () => {
    const breaker = registry.get('inventory');
    for (let i = 0; i < 3; i++)
      expect(() =>
        breaker.executeSync(() => {
          throw new Boom();
        }),
      ).toThrow(Boom);
    expect(breaker.state).toBe(CircuitState.OPEN);

    const state = parse(collector.render()).get('circuit_breaker_state');
    expect(state?.type).toBe('GAUGE');
    for (const s of Object.values(CircuitState)) {
      expect(value(state, { name: 'inventory', state: s })).toBe(s === CircuitState.OPEN ? 1 : 0);
      expect(value(state, { name: 'payment', state: s })).toBe(s === CircuitState.CLOSED ? 1 : 0);
    }
  });

  it('counts calls by kind from the breaker counters, configured breakers included before their first call', () => {
    const payment = registry.get('payment');
    payment.executeSync(() => 'ok');
    payment.executeSync(() => 'ok');
    expect(() =>
      payment.executeSync(() => {
        throw new NotMyFault();
      }),
    ).toThrow(NotMyFault);
    expect(
      payment.executeSync((): string => {
        throw new Boom();
      }),
    ).toBe('queued');
    payment.forceOpen();
    expect(payment.executeSync(() => 'never')).toBe('queued');

    const calls = parse(collector.render()).get('circuit_breaker_calls_total');
    expect(calls?.type).toBe('COUNTER');
    const kinds = (name: string) =>
      Object.fromEntries(
        ['successful', 'failed', 'ignored', 'rejected', 'timeout', 'fallback'].map((kind) => [
          kind,
          value(calls, { name, kind }),
        ]),
      );
    expect(kinds('payment')).toEqual({
      successful: 2,
      failed: 1,
      ignored: 1,
      rejected: 1,
      timeout: 0,
      fallback: 2,
    });
    expect(kinds('idle')).toEqual({
      successful: 0,
      failed: 0,
      ignored: 0,
      rejected: 0,
      timeout: 0,
      fallback: 0,
    });
  });

  it('counts a call that exceeded callTimeoutMs as kind="timeout" (and as failed)', async () => {
    jest.useFakeTimers();
    try {
      const slow = registry.register('slow', { callTimeoutMs: 50 });
      const call = slow.executePromise(() => new Promise<never>(() => undefined));
      const settled = expect(call).rejects.toMatchObject({ code: 'ECALLTIMEOUT' });
      jest.advanceTimersByTime(50);
      await settled;
    } finally {
      jest.useRealTimers();
    }
    const calls = parse(collector.render()).get('circuit_breaker_calls_total');
    expect(value(calls, { name: 'slow', kind: 'timeout' })).toBe(1);
    expect(value(calls, { name: 'slow', kind: 'failed' })).toBe(1);
  });

  it('reports window failure and slow-call rates in percent, -1 below minimumCalls', () => {
    const idle = registry.get('idle');
    const before = parse(collector.render());
    expect(value(before.get('circuit_breaker_failure_rate'), { name: 'idle' })).toBe(-1);
    expect(value(before.get('circuit_breaker_slow_call_rate'), { name: 'idle' })).toBe(-1);

    idle.executeSync(timed(clock, 150, () => 'slow but fine'));
    idle.executeSync(() => 'ok');
    idle.executeSync(() => 'ok');
    expect(() =>
      idle.executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);

    const after = parse(collector.render());
    expect(value(after.get('circuit_breaker_failure_rate'), { name: 'idle' })).toBe(25);
    expect(value(after.get('circuit_breaker_slow_call_rate'), { name: 'idle' })).toBe(25);
    expect(after.get('circuit_breaker_failure_rate')?.type).toBe('GAUGE');
  });

  it('reports the adaptive throttle: kind="throttled" calls (also rejected) and the probability gauge', () => {
    const search = registry.register('search', {
      failureThreshold: Infinity,
      throttle: { k: 2, windowMs: 60_000 },
    });
    const refuseAlways = new BreakerRegistry({
      clock,
      random: () => 0,
      breakers: { search: { failureThreshold: Infinity, throttle: { k: 2, windowMs: 60_000 } } },
    });
    const shed = new BreakerMetricsCollector(refuseAlways).start();
    const b = refuseAlways.get('search');
    expect(() =>
      b.executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);
    for (let i = 0; i < 3; i++) expect(() => b.executeSync(() => 'ok')).toThrow(/throttled the call/);
    const families = parse(shed.render());
    shed.dispose();
    refuseAlways.dispose();
    const calls = families.get('circuit_breaker_calls_total');
    expect(value(calls, { name: 'search', kind: 'throttled' })).toBe(3);
    expect(value(calls, { name: 'search', kind: 'rejected' })).toBe(3);
    const gauge = families.get('circuit_breaker_throttle_probability');
    expect(gauge?.type).toBe('GAUGE');
    expect(value(gauge, { name: 'search' })).toBeCloseTo((4 - 0) / (4 + 1), 12);
    // A breaker without the option reports 0 (and a throttled breaker with a healthy history too).
    search.executeSync(() => 'ok');
    const mine = parse(collector.render());
    expect(value(mine.get('circuit_breaker_throttle_probability'), { name: 'search' })).toBe(0);
    expect(value(mine.get('circuit_breaker_throttle_probability'), { name: 'payment' })).toBe(0);
    expect(value(mine.get('circuit_breaker_calls_total'), { name: 'payment', kind: 'throttled' })).toBe(0);
  });

  it('counts transitions by from and to', () => {
    const b = registry.get('inventory');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++)
        expect(() =>
          b.executeSync(() => {
            throw new Boom();
          }),
        ).toThrow(Boom);
      clock.advance(10_000);
      b.executeSync(() => 'probe');
    }
    b.forceOpen();

    const transitions = parse(collector.render()).get('circuit_breaker_transitions_total');
    expect(transitions?.type).toBe('COUNTER');
    expect(value(transitions, { name: 'inventory', from: 'closed', to: 'open' })).toBe(2);
    expect(value(transitions, { name: 'inventory', from: 'open', to: 'half_open' })).toBe(2);
    expect(value(transitions, { name: 'inventory', from: 'half_open', to: 'closed' })).toBe(2);
    expect(value(transitions, { name: 'inventory', from: 'closed', to: 'forced_open' })).toBe(1);
    expect(transitions?.metrics).toHaveLength(4);
  });

  it('puts every call duration in fixed buckets, with sum and count', () => {
    const b = registry.get('catalogue');
    b.executeSync(timed(clock, 3, () => 'fast'));
    b.executeSync(timed(clock, 40, () => 'ok'));
    b.executeSync(timed(clock, 40, () => 'ok'));
    expect(() =>
      b.executeSync(
        timed(clock, 2_000, () => {
          throw new Boom();
        }),
      ),
    ).toThrow(Boom);
    b.executeSync(timed(clock, 60_000, () => 'very slow'));

    // parse-prometheus-text-format folds a histogram family into one series and drops _sum/_count of
    // labelled series: it reads the buckets of a registry holding this breaker alone.
    // (Sum and count are read through prom-client below; the text itself is compared with prom-client's.)
    const only = new BreakerRegistry({ clock });
    const single = new BreakerMetricsCollector(only).start();
    single.collect();
    const c = only.get('catalogue');
    for (const ms of [3, 40, 40, 2_000, 60_000]) c.executeSync(timed(clock, ms, () => 'x'));
    const histogram = parse(single.render()).get('circuit_breaker_call_duration_seconds');
    single.dispose();
    expect(histogram?.type).toBe('HISTOGRAM');
    expect(histogram?.metrics[0]).toMatchObject({
      buckets: {
        '0.005': '1',
        '0.01': '1',
        '0.025': '1',
        '0.05': '3',
        '0.1': '3',
        '0.25': '3',
        '0.5': '3',
        '1': '3',
        '2.5': '4',
        '5': '4',
        '10': '4',
        '+Inf': '5',
      },
    });

    // And the shared registry's series through prom-client's JSON view of the same families.
    const prom = new Registry();
    const unregister = registerWithPromClient(collector, prom);
    return prom.getMetricsAsJSON().then((json) => {
      unregister();
      const family = json.find((m) => m.name === 'circuit_breaker_call_duration_seconds');
      const series = (family?.values ?? []).filter((v) => v.labels.name === 'catalogue');
      const bucket = (le: string) =>
        series.find(
          (v) => (v as { metricName?: string }).metricName?.endsWith('_bucket') && String(v.labels.le) === le,
        )?.value;
      expect(bucket('0.005')).toBe(1);
      expect(bucket('0.05')).toBe(3);
      expect(bucket('2.5')).toBe(4);
      expect(bucket('+Inf')).toBe(5);
      expect(series.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value).toBe(
        5,
      );
      expect(
        series.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value,
      ).toBeCloseTo(62.083, 9);
    });
  });

  it('keeps memory bounded: a million observations still take one counter per bucket', () => {
    const b = registry.get('busy');
    for (let i = 0; i < 1_000_000; i++) b.executeSync(timed(clock, i % 700, () => i));
    const text = collector.render();
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('circuit_breaker_call_duration_seconds_bucket{name="busy"'));
    expect(lines).toHaveLength(12);
    const prom = new Registry();
    const unregister = registerWithPromClient(collector, prom);
    return prom.getMetricsAsJSON().then((json) => {
      unregister();
      const count = json
        .find((m) => m.name === 'circuit_breaker_call_duration_seconds')
        ?.values.find(
          (v) => v.labels.name === 'busy' && (v as { metricName?: string }).metricName?.endsWith('_count'),
        );
      expect(count?.value).toBe(1_000_000);
    });
  });

  it('times breakers created after it started and keeps a name counting when register() replaces its breaker', () => {
    const first = registry.get('late');
    first.executeSync(timed(clock, 20, () => 'a'));
    expect(() =>
      first.executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);

    const second = registry.register('late', { failureThreshold: 1 });
    expect(second).not.toBe(first);
    second.executeSync(timed(clock, 20, () => 'b'));
    expect(() =>
      second.executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);
    expect(() => second.executeSync(() => 'rejected')).toThrow();

    const families = parse(collector.render());
    const calls = families.get('circuit_breaker_calls_total');
    expect(value(calls, { name: 'late', kind: 'successful' })).toBe(2);
    expect(value(calls, { name: 'late', kind: 'failed' })).toBe(2);
    expect(value(calls, { name: 'late', kind: 'rejected' })).toBe(1);
    expect(value(families.get('circuit_breaker_state'), { name: 'late', state: 'open' })).toBe(1);

    const prom = new Registry();
    const unregister = registerWithPromClient(collector, prom);
    return prom.getMetricsAsJSON().then((json) => {
      unregister();
      const count = json
        .find((m) => m.name === 'circuit_breaker_call_duration_seconds')
        ?.values.find(
          (v) => v.labels.name === 'late' && (v as { metricName?: string }).metricName?.endsWith('_count'),
        );
      expect(count?.value).toBe(4);
    });
  });

  it('times calls from the first scrape on: before it, calls skip the clock reads', () => {
    const fresh = new BreakerRegistry({ clock, breakers: { quiet: {} } });
    const lazy = new BreakerMetricsCollector(fresh).start();
    const quiet = fresh.get('quiet');
    const fail = () =>
      expect(() =>
        quiet.executeSync(
          timed(clock, 30, () => {
            throw new Boom();
          }),
        ),
      ).toThrow(Boom);
    fail();
    expect(quiet.recentEvents()[0]).not.toHaveProperty('durationMs');

    // Registering in prom-client reads nothing yet.
    const first = new Registry();
    const unregister = registerWithPromClient(lazy, first);
    fail();
    expect(quiet.recentEvents()[1]).not.toHaveProperty('durationMs');
    lazy.render();
    fail();
    expect(quiet.recentEvents()[2]).toMatchObject({ type: 'failure', durationMs: 30 });
    const calls = parse(lazy.render()).get('circuit_breaker_calls_total');
    expect(value(calls, { name: 'quiet', kind: 'failed' })).toBe(3);
    return first.getMetricsAsJSON().then((json) => {
      unregister();
      lazy.dispose();
      const count = json
        .find((m) => m.name === 'circuit_breaker_call_duration_seconds')
        ?.values.find(
          (v) => v.labels.name === 'quiet' && (v as { metricName?: string }).metricName?.endsWith('_count'),
        );
      expect(count?.value).toBe(1);
    });
  });

  it('stops timing calls once disposed', () => {
    const b = registry.get('gone');
    b.executeSync(timed(clock, 5, () => 'x'));
    collector.dispose();
    b.executeSync(timed(clock, 5, () => 'y'));
    registry.get('after-dispose').executeSync(() => 'z');
    const text = collector.render();
    const histogram = text
      .split('\n')
      .filter((l) => l.startsWith('circuit_breaker_call_duration_seconds_count{name="gone"}'));
    expect(histogram).toEqual(['circuit_breaker_call_duration_seconds_count{name="gone"} 1']);
  });

  it('counts retries per breaker in retries_total, kept when register() replaces the breaker', async () => {
    const retrying = { maxAttempts: 3, backoff: { type: 'constant', baseMs: 0, jitter: 'none' } } as const;
    const flaky = (failures: number) => async () => {
      if (failures-- > 0) throw new Boom();
      return 'ok';
    };
    await expect(registry.register('stock', { retry: retrying }).executePromise(flaky(2))).resolves.toBe(
      'ok',
    );
    let retries = parse(collector.render()).get('circuit_breaker_retries_total');
    expect(retries?.type).toBe('COUNTER');
    expect(value(retries, { name: 'stock' })).toBe(2);
    expect(value(retries, { name: 'payment' })).toBe(0);

    const replaced = registry.register('stock', { retry: retrying, failureThreshold: 10 });
    await expect(replaced.executePromise(flaky(1))).resolves.toBe('ok');
    retries = parse(collector.render()).get('circuit_breaker_retries_total');
    expect(value(retries, { name: 'stock' })).toBe(3); // 2 carried over + 1: a counter never goes backwards
  });

  it('uses the configured prefix and bucket bounds, and can leave the histogram out', () => {
    const custom = new BreakerMetricsCollector(registry, { prefix: 'shop_cb_', buckets: [0.1, 1] }).start();
    registry.get('catalogue').executeSync(timed(clock, 500, () => 'x'));
    const families = parse(custom.render());
    custom.dispose();
    expect([...families.keys()]).toEqual([
      'shop_cb_state',
      'shop_cb_calls_total',
      'shop_cb_call_duration_seconds',
      'shop_cb_failure_rate',
      'shop_cb_slow_call_rate',
      'shop_cb_throttle_probability',
      'shop_cb_transitions_total',
      'shop_cb_retries_total',
      'shop_cb_keys',
      'shop_cb_keys_evicted_total',
    ]);
    const without = new BreakerMetricsCollector(registry, { buckets: false }).start();
    const names = [...parse(without.render()).keys()];
    without.dispose();
    expect(names).not.toContain('circuit_breaker_call_duration_seconds');
    expect(names).toContain('circuit_breaker_calls_total');
  });

  it('rejects a prefix that is not a metric name and buckets that are not increasing, naming the option', () => {
    expect(() => new BreakerMetricsCollector(registry, { prefix: 'my-app' })).toThrow(BreakerConfigError);
    expect(() => new BreakerMetricsCollector(registry, { prefix: 'my-app' })).toThrow(
      /metrics\.prefix .*"my-app"/,
    );
    expect(() => new BreakerMetricsCollector(registry, { buckets: [0.1, 0.1] })).toThrow(
      /metrics\.buckets must be strictly increasing, got 0\.1 then 0\.1 at index 1/,
    );
    expect(() => new BreakerMetricsCollector(registry, { buckets: [] })).toThrow(
      /metrics\.buckets must be a non-empty array/,
    );
    expect(() => new BreakerMetricsCollector(registry, { buckets: [1, -2] })).toThrow(
      /metrics\.buckets\[1\] .* got -2/,
    );
  });
});

describe('label escaping', () => {
  const nasty = ['say "hi"', 'back\\slash', 'two\nlines', 'all "of\\ them"\n\\n', 'plain'];

  it('renders names with quotes, backslashes and newlines so a Prometheus parser reads them back exactly', () => {
    const clock = new ManualClock();
    const registry = new BreakerRegistry({ clock, breakers: Object.fromEntries(nasty.map((n) => [n, {}])) });
    const collector = new BreakerMetricsCollector(registry).start();
    nasty.forEach((name, i) => {
      for (let k = 0; k <= i; k++) registry.get(name).executeSync(() => k);
    });
    const families = parse(collector.render());
    collector.dispose();
    const calls = families.get('circuit_breaker_calls_total');
    nasty.forEach((name, i) => {
      expect(value(calls, { name, kind: 'successful' })).toBe(i + 1);
      expect(value(families.get('circuit_breaker_state'), { name, state: 'closed' })).toBe(1);
    });
    const seen = new Set(calls?.metrics.map((m) => m.labels?.name));
    expect([...seen].sort()).toEqual([...nasty].sort());
  });

  it('renders exactly what prom-client renders for the same metrics', async () => {
    const clock = new ManualClock();
    const registry = new BreakerRegistry({ clock, defaults: { failureThreshold: 1 } });
    const collector = new BreakerMetricsCollector(registry).start();
    for (const name of nasty) {
      registry.get(name).executeSync(timed(clock, 30, () => 'ok'));
      expect(() =>
        registry.get(name).executeSync(() => {
          throw new Boom();
        }),
      ).toThrow(Boom);
    }
    const prom = new Registry();
    const unregister = registerWithPromClient(collector, prom);
    const theirs = await prom.metrics();
    const ours = collector.render();
    unregister();
    collector.dispose();
    const lines = (text: string) => text.split('\n').filter((l) => l !== '');
    expect(lines(ours)).toEqual(lines(theirs));
    expect(lines(ours).length).toBeGreaterThan(nasty.length * 25);
  });
});
