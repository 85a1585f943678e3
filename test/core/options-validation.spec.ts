import {
  BreakerConfigError,
  BreakerRegistry,
  createBreaker,
  ManualClock,
  type BreakerOptions,
} from '../../lib/core';
import { deepFreeze } from './support';

/** Builds a breaker named "payment" from options the type system would refuse. */
function build(options: unknown): unknown {
  return createBreaker('payment', options as BreakerOptions);
}

function configError(options: unknown): BreakerConfigError {
  try {
    build(options);
  } catch (error) {
    expect(error).toBeInstanceOf(BreakerConfigError);
    expect(error).toMatchObject({ code: 'EBREAKERCONFIG', name: 'BreakerConfigError' });
    return error as BreakerConfigError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

// Each bad value with the message it must produce: breaker, option, allowed range, and the value given.
const BAD: [string, unknown, string][] = [
  ['failureThreshold', { failureThreshold: 0 }, 'failureThreshold must be an integer >= 1, got 0'],
  ['failureThreshold', { failureThreshold: 2.5 }, 'failureThreshold must be an integer >= 1, got 2.5'],
  ['failureThreshold', { failureThreshold: '3' }, 'failureThreshold must be a number, got string "3"'],
  [
    'failureRateThreshold',
    { failureRateThreshold: 150 },
    'failureRateThreshold must be in (0, 100], got 150',
  ],
  ['failureRateThreshold', { failureRateThreshold: 0 }, 'failureRateThreshold must be in (0, 100], got 0'],
  [
    'failureRateThreshold',
    { failureRateThreshold: NaN },
    'failureRateThreshold must be in (0, 100], got NaN',
  ],
  ['slowCallDurationMs', { slowCallDurationMs: 0 }, 'slowCallDurationMs must be in (0, 2147483647], got 0'],
  [
    'slowCallRateThreshold',
    { slowCallDurationMs: 100, slowCallRateThreshold: 101 },
    'slowCallRateThreshold must be in (0, 100], got 101',
  ],
  ['slowCallRateThreshold', { slowCallRateThreshold: 50 }, 'slowCallRateThreshold needs slowCallDurationMs'],
  ['window', { window: 'count' }, 'window must be an object, got "count"'],
  ['window.type', { window: { type: 'sliding' } }, `window.type must be 'count' or 'time', got "sliding"`],
  [
    'window.size',
    { window: { type: 'count', size: 0 } },
    'window.size must be an integer in [1, 10000000], got 0',
  ],
  [
    'window.sizeMs',
    { window: { type: 'time', sizeMs: -1 } },
    'window.sizeMs must be in (0, 604800000], got -1',
  ],
  [
    'window.buckets',
    { window: { type: 'time', sizeMs: 1000, buckets: 0 } },
    'window.buckets must be an integer in [1, 100000], got 0',
  ],
  ['minimumCalls', { minimumCalls: 0 }, 'minimumCalls must be an integer >= 1, got 0'],
  ['minimumCalls', { minimumCalls: 1.5 }, 'minimumCalls must be an integer >= 1, got 1.5'],
  [
    'minimumCalls',
    { minimumCalls: 20, window: { type: 'count', size: 10 } },
    'minimumCalls must be an integer in [1, 10] (window.size), got 20',
  ],
  ['halfOpenAfterMs', { halfOpenAfterMs: -1 }, 'halfOpenAfterMs must be in [0, 2147483647000], got -1'],
  [
    'halfOpenBackoff',
    { halfOpenBackoff: 5 },
    'halfOpenBackoff must be { multiplier, maxMs, jitter? } or a function (attempt) => ms, got 5',
  ],
  [
    'halfOpenBackoff.multiplier',
    { halfOpenBackoff: { multiplier: 0.5, maxMs: 1000 } },
    'halfOpenBackoff.multiplier must be in [1, 1000], got 0.5',
  ],
  [
    'halfOpenBackoff.maxMs',
    { halfOpenBackoff: { multiplier: 2, maxMs: -1 } },
    'halfOpenBackoff.maxMs must be in [0, 2147483647000], got -1',
  ],
  [
    'halfOpenBackoff.jitter',
    { halfOpenBackoff: { multiplier: 2, maxMs: 1000, jitter: 2 } },
    'halfOpenBackoff.jitter must be in [0, 1], got 2',
  ],
  ['halfOpenMaxCalls', { halfOpenMaxCalls: 0 }, 'halfOpenMaxCalls must be an integer >= 1, got 0'],
  ['successThreshold', { successThreshold: -2 }, 'successThreshold must be an integer >= 1, got -2'],
  ['callTimeoutMs', { callTimeoutMs: 0 }, 'callTimeoutMs must be in (0, 2147483647], got 0'],
  ['isFailure', { isFailure: true }, 'isFailure must be a function, got true'],
  ['ignoreErrors', { ignoreErrors: Error }, 'ignoreErrors must be an array of error classes, got a function'],
  [
    'ignoreErrors[1]',
    { ignoreErrors: [Error, 'TypeError'] },
    'ignoreErrors[1] must be an error class, got "TypeError"',
  ],
  ['recordErrors', { recordErrors: {} }, 'recordErrors must be an array of error classes, got {}'],
  ['isResultFailure', { isResultFailure: 503 }, 'isResultFailure must be a function, got 503'],
  ['fallback', { fallback: 5 }, 'fallback must be a function, { value } or { lastKnownGood }, got 5'],
  ['fallback', { fallback: {} }, 'fallback must be a function, { value } or { lastKnownGood }, got {}'],
  ['fallback', { fallback: 'chargeFallback' }, 'fallback "chargeFallback" is a method name'],
  [
    'fallback.lastKnownGood.ttlMs',
    { fallback: { lastKnownGood: { ttlMs: 0, maxEntries: 10 } } },
    'fallback.lastKnownGood.ttlMs must be in (0, 9007199254740991], got 0',
  ],
  [
    'fallback.lastKnownGood.maxEntries',
    { fallback: { lastKnownGood: { ttlMs: 1000, maxEntries: 0 } } },
    'fallback.lastKnownGood.maxEntries must be an integer in [1, 10000000], got 0',
  ],
  ['retry', { retry: 3 }, 'retry must be an object, got 3'],
  [
    'retry.maxAttempts',
    { retry: { maxAttempts: 0 } },
    'retry.maxAttempts must be an integer in [1, 1000], got 0',
  ],
  [
    'retry.backoff.type',
    { retry: { maxAttempts: 2, backoff: { type: 'linear' } } },
    `retry.backoff.type must be 'exponential' or 'constant', got "linear"`,
  ],
  [
    'retry.backoff.baseMs',
    { retry: { maxAttempts: 2, backoff: { type: 'constant', baseMs: -1 } } },
    'retry.backoff.baseMs must be in [0, 2147483647], got -1',
  ],
  [
    'retry.backoff.maxMs',
    { retry: { maxAttempts: 2, backoff: { type: 'exponential', baseMs: 100, maxMs: 50 } } },
    'retry.backoff.maxMs must be >= retry.backoff.baseMs (100), got 50',
  ],
  [
    'retry.backoff.jitter',
    { retry: { maxAttempts: 2, backoff: { type: 'constant', baseMs: 1, jitter: 'half' } } },
    `retry.backoff.jitter must be 'full' or 'none', got "half"`,
  ],
  [
    'retry.retryOn',
    { retry: { maxAttempts: 2, retryOn: 'all' } },
    'retry.retryOn must be a function, got "all"',
  ],
  [
    'bulkhead.maxConcurrent',
    { bulkhead: { maxConcurrent: 0 } },
    'bulkhead.maxConcurrent must be an integer >= 1, got 0',
  ],
  [
    'bulkhead.maxQueue',
    { bulkhead: { maxConcurrent: 1, maxQueue: -1 } },
    'bulkhead.maxQueue must be an integer >= 0, got -1',
  ],
  [
    'bulkhead.queueTimeoutMs',
    { bulkhead: { maxConcurrent: 1, queueTimeoutMs: 0 } },
    'bulkhead.queueTimeoutMs must be in (0, 2147483647], got 0',
  ],
  [
    'recentEventsSize',
    { recentEventsSize: -1 },
    'recentEventsSize must be an integer in [0, 100000], got -1',
  ],
];

describe('option validation', () => {
  it.each(BAD)(
    'refuses a bad %s, naming breaker, option, allowed range and value',
    (_option, options, message) => {
      expect(configError(options).message).toContain(`breaker "payment": ${message}`);
    },
  );

  it.each([
    [{ failureTreshold: 3 }, 'unknown option "failureTreshold" (did you mean "failureThreshold"?)'],
    [{ halfOpenAfter: 1000 }, 'unknown option "halfOpenAfter" (did you mean "halfOpenAfterMs"?)'],
    [{ window: { type: 'count', sze: 5 } }, 'unknown option "window.sze" (did you mean "window.size"?)'],
    [
      { bulkhead: { maxConcurent: 1 } },
      'unknown option "bulkhead.maxConcurent" (did you mean "bulkhead.maxConcurrent"?)',
    ],
    [
      { retry: { maxAttempts: 2, backof: {} } },
      'unknown option "retry.backof" (did you mean "retry.backoff"?)',
    ],
  ])('names an unknown key and suggests the closest one: %j', (options, message) => {
    expect(configError(options).message).toBe(`breaker "payment": ${message}`);
  });

  // Values read from the environment or a ConfigService are strings: the message names the type, not a range.
  it.each([
    [{ halfOpenAfterMs: '5000' }, 'halfOpenAfterMs must be a number, got string "5000"'],
    [{ failureRateThreshold: '50' }, 'failureRateThreshold must be a number, got string "50"'],
    [{ callTimeoutMs: true }, 'callTimeoutMs must be a number, got boolean true'],
    [{ minimumCalls: null }, 'minimumCalls must be a number, got null'],
    [{ window: { type: 'count', size: '20' } }, 'window.size must be a number, got string "20"'],
    [{ retry: { maxAttempts: [3] } }, 'retry.maxAttempts must be a number, got an array of 1'],
    [
      { bulkhead: { maxConcurrent: 2, queueTimeoutMs: { ms: 5 } } },
      'bulkhead.queueTimeoutMs must be a number, got object {"ms":5}',
    ],
  ])('says a non-number is not a number: %j', (options, message) => {
    expect(configError(options).message).toBe(`breaker "payment": ${message}`);
  });

  it('keeps the range message for a missing required number', () => {
    expect(configError({ retry: {} }).message).toBe(
      'breaker "payment": retry.maxAttempts must be an integer in [1, 1000], got undefined',
    );
  });

  it('names an unknown key without a guess when nothing is close', () => {
    expect(configError({ colour: 'red' }).message).toBe('breaker "payment": unknown option "colour"');
  });

  it('refuses options that are not an object, and an empty name', () => {
    expect(configError(42).message).toBe('breaker "payment": options must be an object, got 42');
    expect(configError([]).message).toBe('breaker "payment": options must be an object, got an array of 0');
    expect(() => createBreaker('', {})).toThrow(/breaker name must be a non-empty string, got ""/);
  });

  it('accepts the documented forms', () => {
    const ok: BreakerOptions[] = [
      {},
      { failureThreshold: 1, failureRateThreshold: 100, minimumCalls: 1 },
      { window: { type: 'count', size: 1 }, minimumCalls: 1, failureRateThreshold: 0.5 },
      { window: { type: 'time', sizeMs: 1_000, buckets: 10 } },
      { slowCallDurationMs: 1, slowCallRateThreshold: 100 },
      { halfOpenAfterMs: 0, halfOpenBackoff: { multiplier: 1, maxMs: 0, jitter: 0 } },
      { halfOpenBackoff: (n) => n * 1000 },
      { fallback: (e: unknown) => e },
      { fallback: { value: undefined } },
      { fallback: { lastKnownGood: { ttlMs: 1, maxEntries: 1, key: () => 'k' } } },
      { retry: { maxAttempts: 1 } },
      { bulkhead: { maxConcurrent: 1, maxQueue: 0 } },
    ];
    for (const options of ok) expect(() => build(options)).not.toThrow();
  });

  it("never mutates the caller's options object (deep-frozen here, so any write would throw)", () => {
    const options = deepFreeze({
      failureThreshold: 3,
      failureRateThreshold: 50,
      window: { type: 'count', size: 20 },
      halfOpenBackoff: { multiplier: 2, maxMs: 10_000, jitter: 0.1 },
      ignoreErrors: [RangeError],
      retry: { maxAttempts: 3, backoff: { type: 'exponential', baseMs: 10 } },
      bulkhead: { maxConcurrent: 2 },
      fallback: { lastKnownGood: { ttlMs: 1_000, maxEntries: 10 } },
    } as const);
    const before = JSON.stringify(options);
    const clock = new ManualClock();
    const b = createBreaker('payment', options as unknown as BreakerOptions, { clock });
    for (let i = 0; i < 25; i++) {
      try {
        b.executeSync(() => {
          throw new Error('x');
        });
      } catch {
        // the failures are the point
      }
    }
    b.reset();
    expect(JSON.stringify(options)).toBe(before);
  });
});

describe('the clock is checked at creation', () => {
  const cases: [string, unknown, string][] = [
    [
      'an object without now()',
      {},
      'breaker "payment": clock must have a now() method returning epoch ms, got {}',
    ],
    [
      'a clock returning a Date',
      { now: () => new Date(0) },
      'breaker "payment": clock.now() must return epoch ms as a finite number, got a Date (use getTime())',
    ],
    [
      'a clock returning NaN',
      { now: () => NaN },
      'breaker "payment": clock.now() must return epoch ms as a finite number, got NaN',
    ],
    [
      'a clock returning a string',
      { now: () => '5' },
      'breaker "payment": clock.now() must return epoch ms as a finite number, got "5"',
    ],
    ['null', null, 'breaker "payment": clock must have a now() method returning epoch ms, got null'],
  ];
  it.each(cases)('refuses %s with a BreakerConfigError', (_label, clock, message) => {
    const create = () => createBreaker('payment', {}, { clock: clock as ManualClock });
    expect(create).toThrow(BreakerConfigError);
    expect(create).toThrow(message);
  });

  it('refuses a clock whose now() throws, naming what it threw', () => {
    const clock = {
      now: (): number => {
        throw new Error('no time');
      },
    };
    expect(() => createBreaker('payment', {}, { clock })).toThrow(
      'breaker "payment": clock.now() threw Error: no time',
    );
  });

  it('refuses the same clocks for a registry', () => {
    expect(
      () => new BreakerRegistry({ clock: { now: () => new Date(0) } as unknown as ManualClock }),
    ).toThrow('registry: clock.now() must return epoch ms as a finite number, got a Date (use getTime())');
  });

  it('accepts a ManualClock and a plain { now } object', () => {
    expect(createBreaker('payment', {}, { clock: new ManualClock(5) }).snapshot().lastTransitionAt).toBe(5);
    expect(createBreaker('payment', {}, { clock: { now: () => 9 } }).snapshot().lastTransitionAt).toBe(9);
  });
});
