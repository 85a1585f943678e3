import {
  BreakerConfigError,
  CircuitOpenError,
  BreakerRegistry,
  ManualClock,
  type BreakerOptions,
  type BreakerSnapshot,
} from '../../lib/core';
import { instrumentBreakers, SPAN_EVENT, type BreakerInstrumentation } from '../../lib/integrations/otel';
import { countsOf } from '../../lib/integrations/otel/breaker-tally';
import { context, diag, DiagLogLevel, metrics } from '@opentelemetry/api';
import {
  createOtelHarness,
  enableContext,
  pointsOf,
  trace,
  valueOf,
  type OtelHarness,
  type Point,
} from './otel-harness';

const noop = (): void => undefined;

class DownstreamError extends Error {
  constructor() {
    super('downstream failed');
    this.name = 'DownstreamError';
  }
}
class NotFoundError extends Error {} // name left at 'Error': reported by its class name
class IgnoredError extends Error {}

const OUTCOMES = ['success', 'failure', 'ignored', 'rejected', 'throttled', 'cancelled'];
const fail = (error: unknown) => () => Promise.reject(error);
const ok = () => Promise.resolve('ok');

describe('instrumentBreakers (framework-free core, real OpenTelemetry SDK)', () => {
  let disableContext: () => void;
  let otel: OtelHarness;
  let clock: ManualClock;
  let instrumentation: BreakerInstrumentation | undefined;

  beforeAll(() => (disableContext = enableContext()));
  afterAll(() => disableContext());
  beforeEach(() => {
    otel = createOtelHarness();
    clock = new ManualClock();
  });
  afterEach(async () => {
    instrumentation?.dispose();
    instrumentation = undefined;
    await otel.shutdown();
  });

  function setup(breakers: Record<string, BreakerOptions>, extra: { callDuration?: boolean } = {}) {
    const registry = new BreakerRegistry({ clock, breakers });
    instrumentation = instrumentBreakers(registry, {
      meterProvider: otel.meterProvider,
      tracerProvider: otel.tracerProvider,
      ...extra,
    });
    return registry;
  }

  /** Every `circuit_breaker.calls` point of one breaker, summed per outcome. */
  function byOutcome(points: Map<string, Point[]>, name: string) {
    const out: Record<string, number> = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
    for (const p of pointsOf(points.get('circuit_breaker.calls'), { 'circuit_breaker.name': name })) {
      out[p.attributes['circuit_breaker.outcome'] as string] += p.value;
    }
    return out;
  }

  function stateGauge(points: Map<string, Point[]>, name: string): Record<string, number> {
    const gauge = pointsOf(points.get('circuit_breaker.state'), { 'circuit_breaker.name': name });
    return Object.fromEntries(gauge.map((p) => [p.attributes['circuit_breaker.state'], p.value]));
  }

  it('reports a breaker that never left CLOSED with one state series and only its non-zero counters', async () => {
    const registry = setup({ quiet: {} });
    await registry.get('quiet').executePromise(ok);
    const points = await otel.collect();
    expect(stateGauge(points, 'quiet')).toEqual({ closed: 1 });
    expect(pointsOf(points.get('circuit_breaker.calls'), { 'circuit_breaker.name': 'quiet' })).toEqual([
      { attributes: { 'circuit_breaker.name': 'quiet', 'circuit_breaker.outcome': 'success' }, value: 1 },
    ]);
    expect(points.get('circuit_breaker.fallbacks') ?? []).toEqual([]);
  });

  it('reports every outcome as the snapshot counts it: disjoint, summing to the calls that reached the breaker', async () => {
    const registry = setup({
      payment: { failureThreshold: 3, halfOpenAfterMs: 1_000, ignoreErrors: [IgnoredError] },
    });
    const b = registry.get('payment');
    await b.executePromise(ok);
    await b.executePromise(ok);
    await b.executePromise(fail(new IgnoredError('not found'))).catch(() => undefined);
    await b.executePromise(fail(new TypeError('bad'))).catch(() => undefined);
    await b.executePromise(ok);
    const controller = new AbortController();
    const abandoned = b
      .executePromise(
        (signal: AbortSignal) =>
          new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        controller.signal,
      )
      .catch(() => undefined);
    controller.abort();
    await abandoned;
    for (let i = 0; i < 3; i++) await b.executePromise(fail(new DownstreamError())).catch(() => undefined);
    for (let i = 0; i < 4; i++) await b.executePromise(ok).catch(() => undefined);

    const snapshot = b.snapshot();
    expect(snapshot).toMatchObject({
      totalCalls: 13,
      successfulCalls: 3,
      failedCalls: 4,
      ignoredCalls: 1,
      rejectedCalls: 4,
      cancelledCalls: 1,
    });
    const outcomes = byOutcome(await otel.collect(), 'payment');
    expect(outcomes).toEqual({
      success: snapshot.successfulCalls,
      failure: snapshot.failedCalls,
      ignored: snapshot.ignoredCalls,
      rejected: snapshot.rejectedCalls,
      throttled: 0,
      cancelled: snapshot.cancelledCalls,
    });
    expect(Object.values(outcomes).reduce((a, n) => a + n, 0)).toBe(snapshot.totalCalls);
  });

  it('splits failures by error.type (the error name, its class name for a plain Error subclass); the split adds up to failedCalls', async () => {
    const registry = setup({ inventory: { failureThreshold: 100 } });
    const b = registry.get('inventory');
    await b.executePromise(ok);
    for (let i = 0; i < 3; i++) await b.executePromise(fail(new DownstreamError())).catch(() => undefined);
    await b.executePromise(fail(new NotFoundError('x'))).catch(() => undefined);
    await b.executePromise(fail('a string')).catch(() => undefined);
    const calls = (await otel.collect()).get('circuit_breaker.calls');
    const failures = pointsOf(calls, {
      'circuit_breaker.name': 'inventory',
      'circuit_breaker.outcome': 'failure',
    });
    expect(Object.fromEntries(failures.map((p) => [p.attributes['error.type'], p.value]))).toEqual({
      DownstreamError: 3,
      NotFoundError: 1,
      _OTHER: 1,
    });
    expect(failures.reduce((a, p) => a + p.value, 0)).toBe(b.snapshot().failedCalls);
    // Other outcomes carry no error.type.
    expect(
      pointsOf(calls, { 'circuit_breaker.outcome': 'success' })[0].attributes['error.type'],
    ).toBeUndefined();
  });

  it('reports call timeouts as error.type "timeout"', async () => {
    jest.useFakeTimers();
    try {
      const registry = setup({ slow: { callTimeoutMs: 50, failureThreshold: 10 } });
      const call = registry
        .get('slow')
        .executePromise(() => new Promise(() => undefined))
        .catch((e: Error) => e.name);
      await jest.advanceTimersByTimeAsync(50);
      expect(await call).toBe('CallTimeoutError');
      const calls = (await otel.collect()).get('circuit_breaker.calls');
      expect(valueOf(calls, { 'circuit_breaker.outcome': 'failure', 'error.type': 'timeout' })).toBe(1);
      expect(registry.get('slow').snapshot().timeouts).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts failures made before instrumentation began as _OTHER, so the split still equals failedCalls', async () => {
    const registry = new BreakerRegistry({ clock, breakers: { early: { failureThreshold: 100 } } });
    for (let i = 0; i < 2; i++)
      await registry
        .get('early')
        .executePromise(fail(new DownstreamError()))
        .catch(() => undefined);
    instrumentation = instrumentBreakers(registry, { meterProvider: otel.meterProvider });
    await registry
      .get('early')
      .executePromise(fail(new DownstreamError()))
      .catch(() => undefined);
    const calls = (await otel.collect()).get('circuit_breaker.calls');
    expect(valueOf(calls, { 'circuit_breaker.outcome': 'failure', 'error.type': 'DownstreamError' })).toBe(1);
    expect(valueOf(calls, { 'circuit_breaker.outcome': 'failure', 'error.type': '_OTHER' })).toBe(2);
  });

  it('keeps at most 50 error types per breaker (more go to _OTHER) and survives an error whose name getter throws', async () => {
    const registry = setup({ noisy: { failureThreshold: 1_000 } });
    const b = registry.get('noisy');
    for (let i = 0; i < 60; i++) {
      const error = new Error('x');
      error.name = `Error${i}`;
      await b.executePromise(fail(error)).catch(() => undefined);
    }
    const hostile = new Error('hostile');
    Object.defineProperty(hostile, 'name', {
      get() {
        throw new Error('boom');
      },
    });
    await expect(b.executePromise(fail(hostile))).rejects.toBe(hostile);
    const failures = pointsOf((await otel.collect()).get('circuit_breaker.calls'), {
      'circuit_breaker.outcome': 'failure',
    });
    expect(failures).toHaveLength(51);
    expect(valueOf(failures, { 'error.type': '_OTHER' })).toBe(11);
    expect(failures.reduce((a, p) => a + p.value, 0)).toBe(61);
  });

  it('counts transitions by from/to and fallbacks; the state gauge is 1 for the current state, 0 for states left', async () => {
    const registry = setup({
      payment: {
        failureThreshold: 2,
        halfOpenAfterMs: 1_000,
        successThreshold: 1,
        fallback: { value: 'cached' },
      },
    });
    const b = registry.get('payment');
    await b.executePromise(fail(new DownstreamError()));
    await b.executePromise(fail(new DownstreamError()));
    expect(await b.executePromise(ok)).toBe('cached'); // rejected, answered by the fallback
    let points = await otel.collect();
    // The states the breaker has been in: 1 for the current one, 0 for the one it left.
    expect(stateGauge(points, 'payment')).toEqual({ closed: 0, open: 1 });
    clock.advance(1_000);
    await b.executePromise(ok); // probe succeeds: half_open -> closed
    points = await otel.collect();
    const transitions = pointsOf(points.get('circuit_breaker.transitions'), {
      'circuit_breaker.name': 'payment',
    });
    expect(
      transitions
        .map((p) => [p.attributes['circuit_breaker.from'], p.attributes['circuit_breaker.to'], p.value])
        .sort(),
    ).toEqual([
      ['closed', 'open', 1],
      ['half_open', 'closed', 1],
      ['open', 'half_open', 1],
    ]);
    expect(valueOf(points.get('circuit_breaker.fallbacks'), { 'circuit_breaker.name': 'payment' })).toBe(3);
    expect(b.snapshot().fallbacks).toBe(3);
    expect(stateGauge(points, 'payment')).toEqual({ closed: 1, open: 0, half_open: 0 });
  });

  it('records call durations in seconds from the injected clock, by success or failure', async () => {
    const registry = setup({ timed: { failureThreshold: 10 } }, { callDuration: true });
    const b = registry.get('timed');
    await b.executePromise(() => {
      clock.advance(30);
      return Promise.resolve('ok');
    });
    await b
      .executePromise(() => {
        clock.advance(700);
        return Promise.reject(new DownstreamError());
      })
      .catch(() => undefined);
    const durations = (await otel.collect()).get('circuit_breaker.call.duration');
    const success = pointsOf(durations, {
      'circuit_breaker.name': 'timed',
      'circuit_breaker.outcome': 'success',
    })[0];
    const failure = pointsOf(durations, {
      'circuit_breaker.name': 'timed',
      'circuit_breaker.outcome': 'failure',
    })[0];
    expect(success.histogram).toMatchObject({ count: 1, sum: 0.03 });
    expect(failure.histogram).toMatchObject({ count: 1, sum: 0.7 });
    // 0.03 s falls in (0.025, 0.05]; 0.7 s in (0.5, 0.75].
    const h = success.histogram!;
    expect(h.counts[h.boundaries.indexOf(0.05)]).toBe(1);
    const f = failure.histogram!;
    expect(f.counts[f.boundaries.indexOf(0.75)]).toBe(1);
  });

  it('without callDuration (the default) or with callDuration: false records no histogram, and calls do not read the clock for it', async () => {
    for (const extra of [{}, { callDuration: false }]) {
      instrumentation?.dispose();
      const registry = setup({ untimed: {} }, extra);
      const reads = jest.spyOn(clock, 'now');
      await registry.get('untimed').executePromise(ok);
      expect(reads).not.toHaveBeenCalled();
      reads.mockRestore();
      expect((await otel.collect()).has('circuit_breaker.call.duration')).toBe(false);
    }
  });

  it("instruments breakers created after it, and carries a replaced breaker's counts (counters never go backwards)", async () => {
    const registry = setup({});
    await registry.get('late').executePromise(ok);
    await registry
      .get('late')
      .executePromise(fail(new DownstreamError()))
      .catch(() => undefined);
    registry.register('late', { failureThreshold: 10 });
    await registry.get('late').executePromise(ok);
    await registry
      .get('late')
      .executePromise(fail(new DownstreamError()))
      .catch(() => undefined);
    const calls = (await otel.collect()).get('circuit_breaker.calls');
    expect(valueOf(calls, { 'circuit_breaker.name': 'late', 'circuit_breaker.outcome': 'success' })).toBe(2);
    expect(valueOf(calls, { 'circuit_breaker.name': 'late', 'error.type': 'DownstreamError' })).toBe(2);
  });

  it('stops on dispose(): no new readings, no more span events, successes back on their untimed path', async () => {
    const registry = setup({ payment: { failureThreshold: 1 } });
    const b = registry.get('payment');
    await b.executePromise(ok);
    expect((await otel.collect()).get('circuit_breaker.calls')?.length).toBeGreaterThan(0);
    instrumentation?.dispose();
    instrumentation?.dispose(); // idempotent
    const reads = jest.spyOn(clock, 'now');
    await b.executePromise(ok);
    expect(reads).not.toHaveBeenCalled();
    const { span } = await otel.inSpan('after-dispose', () => b.executePromise(fail(new DownstreamError())));
    expect(span).toBeDefined();
    expect(otel.eventsOf('after-dispose')).toEqual([]);
    // The SDK keeps reporting the last values it read (cumulative); the breaker's later calls never reach it.
    const calls = (await otel.collect()).get('circuit_breaker.calls');
    expect(valueOf(calls, { 'circuit_breaker.outcome': 'success' })).toBe(1);
    expect(valueOf(calls, { 'circuit_breaker.outcome': 'failure' })).toBe(0);
    expect(b.snapshot()).toMatchObject({ successfulCalls: 2, failedCalls: 1 });
  });

  describe('span events', () => {
    it("puts rejections, fallbacks and state changes on the caller's active span, never on a concurrent caller's", async () => {
      const registry = setup({
        payment: {
          failureThreshold: 1,
          halfOpenAfterMs: 1_000,
          fallback: (e: unknown) => `fallback for ${String(e)}`,
        },
      });
      const b = registry.get('payment');
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      // Caller A's call is in flight when caller B starts; A's failure trips the circuit later.
      const a = otel.inSpan('caller-a', () =>
        b.executePromise(() => gate.then(() => Promise.reject(new DownstreamError()))),
      );
      const bCall = otel.inSpan('caller-b', () => b.executePromise(ok));
      expect((await bCall).result).toBe('ok');
      release();
      expect((await a).result).toMatch(/fallback for DownstreamError/);
      await otel.inSpan('caller-c', () => b.executePromise(ok)); // rejected (open), answered by the fallback

      expect(otel.eventsOf('caller-b')).toEqual([]);
      expect(otel.eventsOf('caller-a')).toEqual([
        {
          name: SPAN_EVENT.stateChange,
          attributes: {
            'circuit_breaker.name': 'payment',
            'circuit_breaker.state': 'open',
            'circuit_breaker.from': 'closed',
            'circuit_breaker.to': 'open',
            'circuit_breaker.reason': '1 consecutive failures >= 1',
          },
        },
        {
          name: SPAN_EVENT.fallback,
          attributes: {
            'circuit_breaker.name': 'payment',
            'circuit_breaker.state': 'open',
            'circuit_breaker.reason': 'DownstreamError',
          },
        },
      ]);
      expect(otel.eventsOf('caller-c')).toEqual([
        {
          name: SPAN_EVENT.rejected,
          attributes: {
            'circuit_breaker.name': 'payment',
            'circuit_breaker.state': 'open',
            'circuit_breaker.reason': 'open',
          },
        },
        {
          name: SPAN_EVENT.fallback,
          attributes: {
            'circuit_breaker.name': 'payment',
            'circuit_breaker.state': 'open',
            'circuit_breaker.reason': 'open',
          },
        },
      ]);
    });

    it('never lets a throwing span break the call: the error is reported once through diag', async () => {
      const registry = setup({ payment: {} });
      registry.get('payment').forceOpen();
      const errors: unknown[][] = [];
      diag.setLogger(
        {
          error: (...args: unknown[]) => errors.push(args),
          warn: noop,
          info: noop,
          debug: noop,
          verbose: noop,
        },
        DiagLogLevel.ERROR,
      );
      const hostile = trace.wrapSpanContext({
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
        traceFlags: 1,
      });
      hostile.isRecording = () => true;
      hostile.addEvent = () => {
        throw new Error('exporter exploded');
      };
      try {
        for (let i = 0; i < 3; i++) {
          await context.with(trace.setSpan(context.active(), hostile), async () => {
            await expect(registry.get('payment').executePromise(ok)).rejects.toBeInstanceOf(CircuitOpenError);
          });
        }
        expect(errors).toHaveLength(1);
        expect(String(errors[0][0])).toMatch(/OpenTelemetry instrumentation failed on a "rejected" event/);
        expect(registry.get('payment').snapshot().rejectedCalls).toBe(3);
      } finally {
        diag.disable();
      }
    });

    it('creates no span for calls: without an active span a rejection leaves no trace', async () => {
      const registry = setup({ payment: {} });
      registry.get('payment').forceOpen(); // a state change outside any span: a span of its own (next test)
      otel.spans.reset();
      for (let i = 0; i < 5; i++)
        await registry
          .get('payment')
          .executePromise(ok)
          .catch(() => undefined);
      expect(otel.spans.getFinishedSpans()).toEqual([]);
      expect(registry.get('payment').snapshot().rejectedCalls).toBe(5);
    });

    it('gives a state change made outside any span a one-event span from the tracer provider', () => {
      const registry = setup({ payment: {} });
      registry.get('payment').forceOpen();
      const spans = otel.spans.getFinishedSpans();
      expect(spans).toHaveLength(1);
      expect(spans[0].name).toBe(SPAN_EVENT.stateChange);
      expect(
        spans[0].events.map((e) => [
          e.name,
          e.attributes?.['circuit_breaker.to'],
          e.attributes?.['circuit_breaker.reason'],
        ]),
      ).toEqual([[SPAN_EVENT.stateChange, 'forced_open', 'forced open']]);
    });

    it('adds no span events with tracerProvider: false (metrics still work)', async () => {
      const registry = new BreakerRegistry({ clock, breakers: { payment: { failureThreshold: 1 } } });
      instrumentation = instrumentBreakers(registry, {
        meterProvider: otel.meterProvider,
        tracerProvider: false,
      });
      await otel.inSpan('traced', () => registry.get('payment').executePromise(fail(new DownstreamError())));
      registry.get('payment').reset();
      expect(otel.eventsOf('traced')).toEqual([]);
      expect(otel.spans.getFinishedSpans()).toHaveLength(1);
      const transitions = (await otel.collect()).get('circuit_breaker.transitions');
      expect(valueOf(transitions, { 'circuit_breaker.from': 'closed', 'circuit_breaker.to': 'open' })).toBe(
        1,
      );
    });

    it('uses the global providers by default', async () => {
      const registry = new BreakerRegistry({ clock, breakers: { payment: { failureThreshold: 1 } } });
      expect(metrics.setGlobalMeterProvider(otel.meterProvider)).toBe(true);
      expect(trace.setGlobalTracerProvider(otel.tracerProvider)).toBe(true);
      try {
        instrumentation = instrumentBreakers(registry);
        await registry
          .get('payment')
          .executePromise(fail(new DownstreamError()))
          .catch(() => undefined);
        registry.get('payment').reset();
        expect(
          valueOf((await otel.collect()).get('circuit_breaker.calls'), { 'error.type': 'DownstreamError' }),
        ).toBe(1);
        // The trip and the reset happened outside any span: each got a span from the global provider.
        expect(
          otel.spans.getFinishedSpans().map((s) => s.events[0].attributes?.['circuit_breaker.to']),
        ).toEqual(['open', 'closed']);
      } finally {
        metrics.disable();
        trace.disable();
      }
    });
  });

  it('reads throttled calls apart from other rejections (throttledCalls, when a snapshot has it)', () => {
    const snapshot = {
      successfulCalls: 1,
      failedCalls: 0,
      timeouts: 0,
      ignoredCalls: 0,
      rejectedCalls: 5,
      cancelledCalls: 0,
      fallbacks: 0,
      throttledCalls: 3,
    };
    expect(countsOf(snapshot as unknown as BreakerSnapshot)).toMatchObject({ rejected: 2, throttled: 3 });
  });

  it.each([
    [null, /options must be an object/],
    [
      { meterprovider: {} },
      /unknown option "meterprovider" \(known: meterProvider, tracerProvider, callDuration\)/,
    ],
    [
      { meterProvider: 42 },
      /meterProvider must be an OpenTelemetry MeterProvider \(with getMeter\(\)\), got 42/,
    ],
    [
      { tracerProvider: {} },
      /tracerProvider must be an OpenTelemetry TracerProvider \(with getTracer\(\)\) or false/,
    ],
    [{ callDuration: 'yes' }, /callDuration must be true or false, got "yes"/],
  ])('rejects bad options %p with a message naming them', (options, message) => {
    const registry = new BreakerRegistry({ clock });
    expect(() => instrumentBreakers(registry, options as never)).toThrow(BreakerConfigError);
    expect(() => instrumentBreakers(registry, options as never)).toThrow(message);
  });
});
