import fc from 'fast-check';
import {
  CircuitOpenError,
  createBreaker,
  ManualClock,
  type Breaker,
  type BreakerOptions,
} from '../../lib/core';
import { ReferenceModel, type ModelConfig, type ModelView } from './reference-model';
import { TestError } from './support';

type Op =
  | { kind: 'call'; durationMs: number; fails: boolean }
  | { kind: 'advance'; ms: number }
  | { kind: 'forceOpen' }
  | { kind: 'reset' }
  | { kind: 'disable' }
  | { kind: 'metricsOnly' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      durationMs: fc.constant(0),
      fails: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      durationMs: fc.integer({ min: 1, max: 2_000 }),
      fails: fc.boolean(),
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
  const o: BreakerOptions = { ...c };
  for (const key of Object.keys(o) as (keyof BreakerOptions)[]) if (o[key] === undefined) delete o[key];
  return o;
}

function view(b: Breaker): ModelView {
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
  };
}

/** Runs one call through the real breaker: the function "takes" durationMs by moving the clock. */
function callBreaker(
  b: Breaker,
  clock: ManualClock,
  op: { durationMs: number; fails: boolean },
): 'ran' | 'rejected' {
  let ran = false;
  try {
    b.executeSync(() => {
      ran = true;
      clock.advance(op.durationMs);
      if (op.fails) throw new TestError();
      return 'ok';
    });
  } catch (error) {
    if (error instanceof CircuitOpenError) {
      expect(ran).toBe(false);
      return 'rejected';
    }
    expect(error).toBeInstanceOf(TestError);
  }
  expect(ran).toBe(true);
  return 'ran';
}

describe('the state machine against a reference model', () => {
  it('agrees on state and every counter over 1,000 random sequences of calls, time, and manual control', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.array(opArb, { minLength: 1, maxLength: 80 }),
        (config, start, ops) => {
          const clock = new ManualClock(start);
          const b = createBreaker('model', toOptions(config), { clock });
          const model = new ReferenceModel(config, start);
          ops.forEach((op, step) => {
            let real: string | undefined;
            let expected: string | undefined;
            switch (op.kind) {
              case 'call':
                real = callBreaker(b, clock, op);
                expected = model.call(op.durationMs, op.fails);
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
            expect({ step, op, outcome: real, ...view(b) }).toEqual({
              step,
              op,
              outcome: expected,
              ...model.view(),
            });
            expect(clock.now()).toBe(model.now);
          });
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
