import fc from 'fast-check';
import { defer, lastValueFrom, of, Subject, throwError } from 'rxjs';
import {
  BreakerCallbackError,
  CircuitOpenError,
  createBreaker,
  ManualClock,
  type Breaker,
  type BreakerOptions,
} from '../../lib/core';
import { ReferenceModel, type ModelConfig, type ModelView, type Ticket } from './reference-model';
import { deferred, TestError, type Deferred } from './support';

/** How a call ends: a value, a recorded error, an ignored error, or an error whose isFailure throws. */
type Ending = 'ok' | 'error' | 'ignored' | 'callbackThrows';
type Shape = 'sync' | 'promise' | 'observable';
type CallOp = { kind: 'call'; durationMs: number; ending: Ending; shape: Shape };

type Op =
  | CallOp
  | { kind: 'advance'; ms: number }
  | { kind: 'forceOpen' }
  | { kind: 'reset' }
  | { kind: 'disable' }
  | { kind: 'metricsOnly' };

const endingArb: fc.Arbitrary<Ending> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<Ending>('ok', 'error') },
  { weight: 1, arbitrary: fc.constantFrom<Ending>('ignored', 'callbackThrows') },
);
const shapeArb: fc.Arbitrary<Shape> = fc.constantFrom<Shape>('sync', 'promise', 'observable');

class IgnoredError extends Error {}
/** An error whose classification throws: isFailure below is broken for it. */
class PoisonError extends Error {}
const isFailure = (error: unknown): boolean => {
  if (error instanceof PoisonError) throw new Error('isFailure bug');
  return true;
};

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      durationMs: fc.constant(0),
      ending: endingArb,
      shape: shapeArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      durationMs: fc.integer({ min: 1, max: 2_000 }),
      ending: endingArb,
      shape: shapeArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 8_000 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'forceOpen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'disable' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'metricsOnly' as const }) },
);

const configArb: fc.Arbitrary<ModelConfig> = fc
  .record({
    failureThreshold: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant(Infinity)),
    successThreshold: fc.integer({ min: 1, max: 3 }),
    halfOpenAfterMs: fc.integer({ min: 0, max: 6_000 }),
    halfOpenBackoff: fc.option(
      fc.record({ multiplier: fc.integer({ min: 1, max: 3 }), maxMs: fc.integer({ min: 0, max: 30_000 }) }),
      { nil: undefined },
    ),
    failureRateThreshold: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    slowCallDurationMs: fc.option(fc.integer({ min: 1, max: 1_000 }), { nil: undefined }),
    slowCallRateThreshold: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    minimumCalls: fc.integer({ min: 1, max: 10 }),
    window: fc.option(
      fc.oneof(
        fc.record({ type: fc.constant('count' as const), size: fc.integer({ min: 1, max: 12 }) }),
        fc
          .record({ buckets: fc.integer({ min: 1, max: 6 }), bucketMs: fc.integer({ min: 1, max: 1_500 }) })
          .map(({ buckets, bucketMs }) => ({ type: 'time' as const, sizeMs: buckets * bucketMs, buckets })),
      ),
      { freq: 4, nil: undefined },
    ),
  })
  .map((c) => ({
    ...c,
    // A slow-call trip needs a duration; a count window caps minimumCalls.
    slowCallDurationMs:
      c.slowCallRateThreshold !== undefined ? (c.slowCallDurationMs ?? 300) : c.slowCallDurationMs,
    minimumCalls: c.window?.type === 'count' ? Math.min(c.minimumCalls, c.window.size) : c.minimumCalls,
  }));

function toOptions(c: ModelConfig): BreakerOptions {
  const o: BreakerOptions = { ...c, ignoreErrors: [IgnoredError], isFailure };
  for (const key of Object.keys(o) as (keyof BreakerOptions)[]) if (o[key] === undefined) delete o[key];
  return o;
}

function view(b: Breaker, transitions: number): ModelView {
  const s = b.snapshot();
  return {
    state: s.state,
    totalCalls: s.totalCalls,
    successfulCalls: s.successfulCalls,
    failedCalls: s.failedCalls,
    rejectedCalls: s.rejectedCalls,
    slowCalls: s.slowCalls,
    openedCount: s.openedCount,
    consecutiveFailures: s.consecutiveFailures,
    bufferedCalls: s.bufferedCalls,
    failureRate: s.failureRate,
    slowCallRate: s.slowCallRate,
    retryAfterMs: s.retryAfterMs,
    ignoredCalls: s.ignoredCalls,
    lastTransitionAt: s.lastTransitionAt,
    transitions,
  };
}

/**
 * Runs one call through the real breaker in the op's shape: the function "takes" durationMs by moving the
 * clock, then ends as the op says. Checks what the caller gets for each ending.
 */
async function callBreaker(b: Breaker, clock: ManualClock, op: CallOp): Promise<'ran' | 'rejected'> {
  let ran = false;
  const thrown =
    op.ending === 'error'
      ? new TestError()
      : op.ending === 'ignored'
        ? new IgnoredError()
        : new PoisonError();
  const start = () => {
    ran = true;
    clock.advance(op.durationMs);
  };
  let outcome: { value: unknown } | { error: unknown };
  try {
    let value: unknown;
    if (op.shape === 'sync') {
      value = b.executeSync(() => {
        start();
        if (op.ending !== 'ok') throw thrown;
        return 'ok';
      });
    } else if (op.shape === 'promise') {
      value = await b.executePromise(async () => {
        start();
        if (op.ending !== 'ok') throw thrown;
        return 'ok';
      });
    } else {
      value = await lastValueFrom(
        b.executeObservable(() =>
          defer(() => {
            start();
            return op.ending === 'ok' ? of('ok') : throwError(() => thrown);
          }),
        ),
      );
    }
    outcome = { value };
  } catch (error) {
    outcome = { error };
  }
  if ('error' in outcome && outcome.error instanceof CircuitOpenError) {
    expect(ran).toBe(false);
    return 'rejected';
  }
  expect(ran).toBe(true);
  if (op.ending === 'ok') expect(outcome).toEqual({ value: 'ok' });
  else if (op.ending === 'callbackThrows') {
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(BreakerCallbackError);
    expect((error as BreakerCallbackError).original).toBe(thrown);
  } else expect(outcome).toEqual({ error: thrown });
  return 'ran';
}

describe('the state machine against a reference model', () => {
  it('agrees on state, every counter, lastTransitionAt and each state_change over 500 random sequences of calls (sync, Promise, Observable; failing, ignored, or with a throwing isFailure), time, and manual control', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.array(opArb, { minLength: 1, maxLength: 80 }),
        async (config, start, ops) => {
          const clock = new ManualClock(start);
          const b = createBreaker('model', toOptions(config), { clock });
          const model = new ReferenceModel(config, start);
          let transitions = 0;
          const subscription = b.stateChanges$.subscribe(() => transitions++);
          for (const [step, op] of ops.entries()) {
            let real: string | undefined;
            let expected: string | undefined;
            switch (op.kind) {
              case 'call':
                real = await callBreaker(b, clock, op);
                expected = model.call(
                  op.durationMs,
                  op.ending === 'error' || op.ending === 'callbackThrows',
                  op.ending === 'ignored',
                );
                break;
              case 'advance':
                clock.advance(op.ms);
                model.advance(op.ms);
                break;
              case 'forceOpen':
                b.forceOpen();
                model.manual('forced_open');
                break;
              case 'reset':
                b.reset();
                model.manual('closed');
                break;
              case 'disable':
                b.disable();
                model.manual('disabled');
                break;
              case 'metricsOnly':
                b.metricsOnly();
                model.manual('metrics_only');
                break;
            }
            expect({ step, op, outcome: real, ...view(b, transitions) }).toEqual({
              step,
              op,
              outcome: expected,
              ...model.view(),
            });
            expect(clock.now()).toBe(model.now);
          }
          subscription.unsubscribe();
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- calls in flight, outcomes in any order

/** Starts a call that stays in flight; `settle` ends the `pick`-th one still in flight (modulo their number). */
type ConcurrentOp =
  | Exclude<Op, CallOp>
  | CallOp
  | { kind: 'start'; shape: 'promise' | 'observable'; count: number }
  | { kind: 'settle'; pick: number; ending: Ending };

const concurrentOpArb: fc.Arbitrary<ConcurrentOp> = fc.oneof(
  { weight: 14, arbitrary: opArb },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      shape: fc.constantFrom<'promise' | 'observable'>('promise', 'observable'),
      count: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(), ending: endingArb }),
  },
);

// Circuits that open easily and soon allow probes, so that most sequences reach HALF_OPEN with calls to start.
const concurrentConfigArb: fc.Arbitrary<ModelConfig> = fc
  .tuple(
    configArb,
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 0, max: 2_000 }),
  )
  .map(([c, halfOpenMaxCalls, failureThreshold, halfOpenAfterMs]) => ({
    ...c,
    halfOpenMaxCalls,
    failureThreshold,
    halfOpenAfterMs,
  }));

/** A call of the real breaker that is still running, with the model's ticket for it. */
interface InFlight {
  ticket: Ticket;
  /** Ends the call's function as `ending` says, then waits until the caller has its outcome. */
  settle(ending: Ending): Promise<void>;
}

function thrownFor(ending: Ending): Error {
  return ending === 'error' ? new TestError() : ending === 'ignored' ? new IgnoredError() : new PoisonError();
}

/** What the caller must get for a call whose function ended as `ending`. */
function expectOutcome(
  outcome: { value: unknown } | { error: unknown },
  ending: Ending,
  thrown: Error,
): void {
  if (ending === 'ok') expect(outcome).toEqual({ value: 'ok' });
  else if (ending === 'callbackThrows') {
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(BreakerCallbackError);
    expect((error as BreakerCallbackError).original).toBe(thrown);
  } else expect(outcome).toEqual({ error: thrown });
}

/** Starts a call on the real breaker that runs until settled; 'rejected' when it was refused (and did not run). */
async function startCall(
  b: Breaker,
  shape: 'promise' | 'observable',
): Promise<Omit<InFlight, 'ticket'> | 'rejected'> {
  let ran = false;
  if (shape === 'promise') {
    let d: Deferred<string> | undefined;
    let call: Promise<unknown>;
    try {
      call = b.executePromise(() => {
        ran = true;
        d = deferred<string>();
        return d.promise;
      });
    } catch (error) {
      call = Promise.reject(error);
    }
    const caller = call.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if (!ran) {
      expect((await caller) as { error: unknown }).toEqual({ error: expect.any(CircuitOpenError) });
      return 'rejected';
    }
    return {
      async settle(ending) {
        const thrown = thrownFor(ending);
        if (ending === 'ok') d?.resolve('ok');
        else d?.reject(thrown);
        expectOutcome(await caller, ending, thrown);
      },
    };
  }
  const source = new Subject<string>();
  let outcome: { value: unknown } | { error: unknown } | undefined;
  b.executeObservable(() => {
    ran = true;
    return source;
  }).subscribe({
    next: (value) => (outcome = { value }),
    error: (error: unknown) => (outcome = { error }),
  });
  if (!ran) {
    expect(outcome).toEqual({ error: expect.any(CircuitOpenError) });
    return 'rejected';
  }
  return {
    async settle(ending) {
      const thrown = thrownFor(ending);
      if (ending === 'ok') {
        source.next('ok');
        source.complete();
      } else source.error(thrown);
      expectOutcome(outcome as { value: unknown } | { error: unknown }, ending, thrown);
      await Promise.resolve();
    },
  };
}

describe('the state machine against a reference model, with calls in flight', () => {
  it('agrees over 200 random sequences where several calls (half-open probes up to halfOpenMaxCalls among them) are in flight and end in random order, across transitions', async () => {
    let maxProbesInFlight = 0;
    let runsWithConcurrentProbes = 0;
    await fc.assert(
      fc.asyncProperty(
        concurrentConfigArb,
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.array(concurrentOpArb, { minLength: 10, maxLength: 80, size: 'max' }),
        async (config, start, ops) => {
          const clock = new ManualClock(start);
          const b = createBreaker('model', toOptions(config), { clock });
          const model = new ReferenceModel(config, start);
          let transitions = 0;
          const subscription = b.stateChanges$.subscribe(() => transitions++);
          const inFlight: InFlight[] = [];
          let probesInThisRun = 0;
          const check = (step: number, op: unknown, real?: string, expected?: string) => {
            expect({ step, op, outcome: real, ...view(b, transitions) }).toEqual({
              step,
              op,
              outcome: expected,
              ...model.view(),
            });
            expect(clock.now()).toBe(model.now);
            const probes = b.snapshot().halfOpenInFlight;
            expect(probes).toBeLessThanOrEqual(config.halfOpenMaxCalls ?? 1);
            maxProbesInFlight = Math.max(maxProbesInFlight, probes);
            probesInThisRun = Math.max(probesInThisRun, probes);
          };
          for (const [step, op] of ops.entries()) {
            let real: string | undefined;
            let expected: string | undefined;
            switch (op.kind) {
              case 'start': {
                // `count` calls start back to back: in HALF_OPEN, a burst of would-be probes.
                const outcomes: { real: string; expected: string }[] = [];
                for (let i = 0; i < op.count; i++) {
                  const started = await startCall(b, op.shape);
                  const ticket = model.start();
                  outcomes.push({
                    real: started === 'rejected' ? started : 'ran',
                    expected: ticket === 'rejected' ? ticket : 'ran',
                  });
                  if (started !== 'rejected' && ticket !== 'rejected') inFlight.push({ ...started, ticket });
                }
                real = outcomes.map((o) => o.real).join(',');
                expected = outcomes.map((o) => o.expected).join(',');
                break;
              }
              case 'settle': {
                if (inFlight.length === 0) break;
                const [call] = inFlight.splice(op.pick % inFlight.length, 1);
                await call.settle(op.ending);
                model.settle(
                  call.ticket,
                  op.ending === 'error' || op.ending === 'callbackThrows',
                  op.ending === 'ignored',
                );
                break;
              }
              case 'call':
                real = await callBreaker(b, clock, op);
                expected = model.call(
                  op.durationMs,
                  op.ending === 'error' || op.ending === 'callbackThrows',
                  op.ending === 'ignored',
                );
                break;
              case 'advance':
                clock.advance(op.ms);
                model.advance(op.ms);
                break;
              case 'forceOpen':
                b.forceOpen();
                model.manual('forced_open');
                break;
              case 'reset':
                b.reset();
                model.manual('closed');
                break;
              case 'disable':
                b.disable();
                model.manual('disabled');
                break;
              case 'metricsOnly':
                b.metricsOnly();
                model.manual('metrics_only');
                break;
            }
            check(step, op, real, expected);
          }
          // Whatever is still running ends, in order, so nothing is left pending.
          for (const [i, call] of inFlight.entries()) {
            await call.settle('ok');
            model.settle(call.ticket, false);
            check(ops.length + i, 'drain');
          }
          subscription.unsubscribe();
          if (probesInThisRun >= 2) runsWithConcurrentProbes++;
        },
      ),
      { numRuns: 200 },
    );
    // The runs did reach what this test is for: several probes of one half-open state in flight at once,
    // in many sequences, up to the largest halfOpenMaxCalls generated.
    expect(runsWithConcurrentProbes).toBeGreaterThanOrEqual(10);
    expect(maxProbesInFlight).toBeGreaterThanOrEqual(3);
  });
});
