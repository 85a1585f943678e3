import { firstValueFrom, of, throwError } from 'rxjs';
import {
  BreakerConfigError,
  BreakerRegistry,
  CallThrottledError,
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type Breaker,
  type BreakerOptions,
} from '../../lib/core';
import { AdaptiveThrottle } from '../../lib/core/adaptive-throttle';
import { deferred, mulberry32 } from './support';

const down = new Error('downstream failed');

/** The SRE formula, written independently of the implementation. */
function expectedProbability(requests: number, accepts: number, k: number): number {
  return Math.max(0, (requests - k * accepts) / (requests + 1));
}

/** A random source the test steers: `draw` is what the next call gets; `calls` counts the draws. */
function steeredRandom(initial: number) {
  const source = { draw: initial, calls: 0, next: () => (source.calls++, source.draw) };
  return source;
}

function throttled(options: BreakerOptions, random: () => number, clock = new ManualClock()) {
  return createBreaker('search', { failureThreshold: Infinity, ...options }, { clock, random });
}

/** Runs one synchronous call; returns what happened to it. */
function call(b: Breaker, ok: boolean): 'ran-ok' | 'ran-failed' | 'throttled' | 'open' {
  let ran = false;
  try {
    b.executeSync(() => {
      ran = true;
      if (!ok) throw down;
      return 'ok';
    });
    return 'ran-ok';
  } catch (error) {
    if (ran) return 'ran-failed';
    if (error instanceof CallThrottledError) return 'throttled';
    if (error instanceof CircuitOpenError) return 'open';
    throw error;
  }
}

describe('adaptive throttle (throttle option)', () => {
  describe('the probability', () => {
    it.each([2, 1.5, 1])(
      'follows max(0, (requests - k * accepts) / (requests + 1)) call after call (k = %p)',
      (k) => {
        const drawn: number[] = [];
        const seeded = mulberry32(11);
        const random = () => {
          const d = seeded();
          drawn.push(d);
          return d;
        };
        const b = throttled({ throttle: { k, windowMs: 10_000 } }, random);
        const downstream = mulberry32(5);
        let requests = 0;
        let accepts = 0;
        let refused = 0;
        for (let i = 0; i < 400; i++) {
          const p = expectedProbability(requests, accepts, k);
          expect(b.snapshot().throttleProbability).toBeCloseTo(p, 12);
          const drawsBefore = drawn.length;
          const outcome = call(b, downstream() < 0.3);
          requests++; // every call made while CLOSED is a request, refused ones included
          if (outcome === 'ran-ok') accepts++;
          // A call is refused exactly when a draw was made and fell under the probability.
          const draw = drawn.length > drawsBefore ? drawn[drawn.length - 1] : undefined;
          expect(outcome === 'throttled').toBe(draw !== undefined && draw < p);
          expect(draw === undefined).toBe(p === 0);
          if (outcome === 'throttled') refused++;
        }
        expect(b.snapshot().throttledCalls).toBe(refused);
        expect(refused).toBeGreaterThan(0);
      },
    );

    it('is 0 for a healthy downstream: nothing is throttled and no random number is drawn', () => {
      const random = steeredRandom(0); // would refuse any call with a probability above 0
      const b = throttled({ throttle: { k: 1, windowMs: 1_000 } }, random.next);
      for (let i = 0; i < 5_000; i++) expect(call(b, true)).toBe('ran-ok');
      const s = b.snapshot();
      expect(s.throttleProbability).toBe(0);
      expect(s.throttledCalls).toBe(0);
      expect(s.rejectedCalls).toBe(0);
      expect(random.calls).toBe(0);
    });

    it('holds no call in flight against the downstream: a burst of concurrent calls to a healthy one all run', async () => {
      const random = steeredRandom(0);
      const b = throttled({ throttle: { k: 1, windowMs: 1_000 } }, random.next);
      const pending = Array.from({ length: 16 }, () => deferred<string>());
      const calls = pending.map((d) => b.executePromise(() => d.promise));
      expect(b.snapshot()).toMatchObject({ throttleProbability: 0, throttledCalls: 0 });
      pending.forEach((d) => d.resolve('ok'));
      await expect(Promise.all(calls)).resolves.toHaveLength(16);
      expect(random.calls).toBe(0);
    });

    it('counts a call when it ends: a failure in flight raises the probability only once it fails', async () => {
      const b = throttled({ throttle: { k: 2, windowMs: 1_000 } }, () => 0.999_999);
      const slow = deferred<string>();
      const call = b.executePromise(() => slow.promise);
      expect(b.snapshot().throttleProbability).toBe(0);
      slow.reject(down);
      await expect(call).rejects.toBe(down);
      expect(b.snapshot().throttleProbability).toBeCloseTo(expectedProbability(1, 0, 2), 12);
    });

    it('stays 0 while the downstream accepts at least 1/k of the calls (k = 2, every other call fails)', () => {
      const random = steeredRandom(0);
      const b = throttled({ throttle: { k: 2, windowMs: 60_000 } }, random.next);
      for (let i = 0; i < 1_000; i++) expect(call(b, i % 2 === 0)).not.toBe('throttled');
      expect(b.snapshot().throttledCalls).toBe(0);
    });

    it('counts errors the classifier ignores as accepts (the downstream answered)', () => {
      class NotFound extends Error {}
      const random = steeredRandom(0);
      const b = throttled({ throttle: { k: 1, windowMs: 1_000 }, ignoreErrors: [NotFound] }, random.next);
      for (let i = 0; i < 100; i++) {
        expect(() =>
          b.executeSync(() => {
            throw new NotFound();
          }),
        ).toThrow(NotFound);
      }
      expect(b.snapshot()).toMatchObject({ throttleProbability: 0, throttledCalls: 0, ignoredCalls: 100 });
    });
  });

  describe('refused calls', () => {
    it('are refused before fn with CallThrottledError (a CircuitOpenError, reason "throttled")', () => {
      const b = throttled({ throttle: { k: 2, windowMs: 10_000 } }, () => 0);
      expect(call(b, false)).toBe('ran-failed'); // no history yet: probability 0
      const fn = jest.fn(() => 'ok');
      let error: unknown;
      try {
        b.executeSync(fn);
      } catch (e) {
        error = e;
      }
      expect(fn).not.toHaveBeenCalled();
      expect(error).toBeInstanceOf(CallThrottledError);
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(error).toMatchObject({
        code: 'ECIRCUITOPEN',
        reason: 'throttled',
        breakerName: 'search',
        state: CircuitState.CLOSED,
        retryAfterMs: 0,
        probability: 0.5, // 1 request, 0 accepts: (1 - 0) / (1 + 1)
      });
      expect((error as Error).message).toBe(
        'circuit breaker "search" throttled the call (refusing 50.0% of calls: the downstream accepts too few)',
      );
      expect(b.state).toBe(CircuitState.CLOSED);
    });

    it('are counted in totalCalls, rejectedCalls and throttledCalls, never as failures', () => {
      const b = throttled({ throttle: { k: 2, windowMs: 10_000 } }, () => 0);
      call(b, false);
      for (let i = 0; i < 9; i++) expect(call(b, true)).toBe('throttled');
      expect(b.snapshot()).toMatchObject({
        totalCalls: 10,
        failedCalls: 1,
        successfulCalls: 0,
        rejectedCalls: 9,
        throttledCalls: 9,
        consecutiveFailures: 1,
        throttleProbability: expectedProbability(10, 0, 2),
      });
    });

    it('emit a rejected event carrying the CallThrottledError', () => {
      const b = throttled({ throttle: { k: 2, windowMs: 10_000 } }, () => 0);
      const seen: unknown[] = [];
      const sub = b.events$.subscribe((e) => seen.push(e));
      call(b, false);
      call(b, true);
      sub.unsubscribe();
      expect(seen.map((e) => (e as { type: string }).type)).toEqual(['failure', 'rejected']);
      expect((seen[1] as { error: unknown }).error).toBeInstanceOf(CallThrottledError);
    });

    it('take the fallback (value, function, Promise and Observable shapes)', async () => {
      const clock = new ManualClock();
      const withValue = createBreaker(
        'a',
        { failureThreshold: Infinity, throttle: { k: 2, windowMs: 1_000 }, fallback: { value: 'cached' } },
        { clock, random: () => 0 },
      );
      await expect(withValue.executePromise(() => Promise.reject(down))).resolves.toBe('cached');
      const live = jest.fn(() => Promise.resolve('live'));
      await expect(withValue.executePromise(live)).resolves.toBe('cached');
      expect(live).not.toHaveBeenCalled();
      expect(withValue.snapshot()).toMatchObject({ fallbacks: 2, failedCalls: 1, throttledCalls: 1 });

      const given: unknown[] = [];
      const withFn = createBreaker(
        'b',
        {
          failureThreshold: Infinity,
          throttle: { k: 2, windowMs: 1_000 },
          fallback: (id: number, error: unknown) => (given.push(id, error), `fallback for ${id}`),
        },
        { clock, random: () => 0 },
      );
      expect(
        withFn.executeSync((_id: number): string => {
          throw down;
        }, 1),
      ).toBe('fallback for 1');
      expect(withFn.executeSync((id: number) => `live ${id}`, 2)).toBe('fallback for 2');
      await expect(
        firstValueFrom(withFn.executeObservable((id: number) => of(`live ${id}`), 3)),
      ).resolves.toBe('fallback for 3');
      expect(given[1]).toBe(down);
      expect(given[2]).toBe(2);
      expect(given[3]).toBeInstanceOf(CallThrottledError);
      expect(given[4]).toBe(3);
      expect(given[5]).toBeInstanceOf(CallThrottledError);
    });

    it('are refused in every shape without a fallback (Promise, Observable, execute of an async fn)', async () => {
      const b = throttled({ throttle: { k: 2, windowMs: 1_000 } }, () => 0);
      call(b, false);
      await expect(b.executePromise(() => Promise.resolve(1))).rejects.toBeInstanceOf(CallThrottledError);
      await expect(firstValueFrom(b.executeObservable(() => of(1)))).rejects.toBeInstanceOf(
        CallThrottledError,
      );
      await expect(b.execute(async () => 1)).rejects.toBeInstanceOf(CallThrottledError);
      expect(b.snapshot().throttledCalls).toBe(3);
    });

    it('are not retried (a CircuitOpenError ends retry at once)', async () => {
      const b = createBreaker(
        'r',
        { failureThreshold: Infinity, throttle: { k: 2, windowMs: 1_000 }, retry: { maxAttempts: 3 } },
        { clock: new ManualClock(), random: () => 0 },
      );
      await expect(
        b.executePromise(() => Promise.reject(down)).catch(() => undefined),
      ).resolves.toBeUndefined();
      const fn = jest.fn(() => Promise.resolve('ok'));
      await expect(b.executePromise(fn)).rejects.toBeInstanceOf(CallThrottledError);
      expect(fn).not.toHaveBeenCalled();
    });

    it('count one request per call when execute() hands an Observable call to its own pipeline', async () => {
      const random = steeredRandom(0.999_999); // refuses nothing here
      const b = throttled({ throttle: { k: 2, windowMs: 10_000 } }, random.next);
      const failing = () => throwError(() => down);
      for (let i = 0; i < 4; i++) await expect(firstValueFrom(b.execute(failing))).rejects.toBe(down);
      expect(b.snapshot().throttleProbability).toBeCloseTo(expectedProbability(4, 0, 2), 12);
      random.draw = 0;
      await expect(firstValueFrom(b.execute(failing))).rejects.toBeInstanceOf(CallThrottledError);
      expect(b.snapshot()).toMatchObject({ totalCalls: 5, throttledCalls: 1 });
      expect(b.snapshot().throttleProbability).toBeCloseTo(expectedProbability(5, 0, 2), 12);
    });
  });

  describe('recovery and reset', () => {
    it('recovers as the failing period leaves the window: probability 0 once all of it has aged out', () => {
      const clock = new ManualClock(0);
      const random = steeredRandom(0); // refuses whenever the probability is above 0
      const b = throttled({ throttle: { k: 2, windowMs: 60_000 } }, random.next, clock);
      for (let i = 0; i < 20; i++) call(b, false); // 1 failure, then 19 refused
      expect(b.snapshot().throttleProbability).toBeCloseTo(expectedProbability(20, 0, 2), 12);
      // The downstream heals, but every call is still refused while the failing period is in the window.
      clock.set(59_999);
      expect(call(b, true)).toBe('throttled');
      expect(b.snapshot().throttleProbability).toBeCloseTo(expectedProbability(21, 0, 2), 12);
      // Buckets are 1 s wide: at 60 s the calls of 0..1 s leave; the one refused at 59.999 s stays until 119 s.
      clock.set(60_000);
      expect(b.snapshot().throttleProbability).toBeCloseTo(expectedProbability(1, 0, 2), 12);
      clock.set(118_999);
      expect(b.snapshot().throttleProbability).toBeCloseTo(expectedProbability(1, 0, 2), 12);
      clock.set(119_000);
      expect(b.snapshot().throttleProbability).toBe(0);
      expect(call(b, true)).toBe('ran-ok');
    });

    it('with a realistic random source, admits more calls each window after healing, until all pass', () => {
      const clock = new ManualClock(0);
      const windowMs = 10_000;
      const b = throttled({ throttle: { k: 2, windowMs } }, mulberry32(3), clock);
      for (let t = 0; t < windowMs; t += 10) {
        clock.set(t);
        call(b, false); // 100 calls a second, all failing or refused
      }
      expect(b.snapshot().throttleProbability).toBeGreaterThan(0.99);
      // Healed: each admitted call is an accept, so each window admits more than the last (about e^1.6
      // times more at k = 2) until the accepts reach requests / k and nothing is refused.
      const admittedPerWindow: number[] = [];
      for (let w = 1; w <= 8; w++) {
        let admitted = 0;
        for (let t = w * windowMs; t < (w + 1) * windowMs; t += 10) {
          clock.set(t);
          if (call(b, true) === 'ran-ok') admitted++;
        }
        admittedPerWindow.push(admitted);
      }
      const firstFull = admittedPerWindow.indexOf(1_000);
      expect(firstFull).toBeGreaterThan(1); // not within the first window: that is the price of the formula
      for (let w = 1; w < firstFull; w++)
        expect(admittedPerWindow[w]).toBeGreaterThan(admittedPerWindow[w - 1]);
      expect(admittedPerWindow.slice(firstFull)).toEqual(admittedPerWindow.slice(firstFull).map(() => 1_000));
      expect(b.snapshot().throttleProbability).toBe(0);
    });

    it('clears its counts when the breaker closes after being open, and exempts half-open probes', () => {
      const clock = new ManualClock(0);
      const random = steeredRandom(0.99); // refuses only above 99 %
      const b = createBreaker(
        'both',
        {
          failureThreshold: 3,
          halfOpenAfterMs: 1_000,
          successThreshold: 1,
          throttle: { k: 2, windowMs: 60_000 },
        },
        { clock, random: random.next },
      );
      for (let i = 0; i < 3; i++) expect(call(b, false)).toBe('ran-failed');
      expect(b.state).toBe(CircuitState.OPEN);
      expect(b.snapshot().throttleProbability).toBe(0); // only CLOSED calls are throttled
      expect(call(b, true)).toBe('open');
      clock.advance(1_000);
      random.draw = 0; // the history (3 requests, 0 accepts) would refuse a CLOSED call now
      const drawsBefore = random.calls;
      expect(call(b, true)).toBe('ran-ok'); // the probe: exempt
      expect(random.calls).toBe(drawsBefore);
      expect(b.state).toBe(CircuitState.CLOSED);
      expect(b.snapshot().throttleProbability).toBe(0);
      expect(call(b, true)).toBe('ran-ok'); // counts cleared: nothing held against it
      expect(b.snapshot().throttledCalls).toBe(0);
    });

    it('clears its counts on reset()', () => {
      const b = throttled({ throttle: { k: 2, windowMs: 60_000 } }, () => 0);
      call(b, false);
      expect(call(b, true)).toBe('throttled');
      b.reset();
      expect(b.snapshot().throttleProbability).toBe(0);
      expect(call(b, true)).toBe('ran-ok');
    });
  });

  describe('beside the trips', () => {
    it('sheds load while the rate trip decides when to open; then the circuit rejects with reason "open"', () => {
      const clock = new ManualClock(0);
      const b = createBreaker(
        'rate',
        {
          failureThreshold: Infinity,
          failureRateThreshold: 50,
          minimumCalls: 10,
          window: { type: 'count', size: 20 },
          halfOpenAfterMs: 5_000,
          throttle: { k: 2, windowMs: 60_000 },
        },
        { clock, random: mulberry32(9) },
      );
      const outcomes: string[] = [];
      for (let i = 0; i < 40 && b.state === CircuitState.CLOSED; i++) outcomes.push(call(b, i % 4 === 0));
      expect(outcomes).toContain('throttled');
      expect(b.state).toBe(CircuitState.OPEN);
      // Refused calls never ran: the window holds only the calls that did.
      const ran = outcomes.filter((o) => o.startsWith('ran')).length;
      expect(b.snapshot().failedCalls + b.snapshot().successfulCalls).toBe(ran);
      let error: unknown;
      try {
        b.executeSync(() => 1);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(error).not.toBeInstanceOf(CallThrottledError);
      expect((error as CircuitOpenError).reason).toBe('open');
    });

    it('works alone with failureThreshold: Infinity (never opens)', () => {
      const b = throttled({ throttle: { k: 1.5, windowMs: 1_000 } }, mulberry32(1));
      for (let i = 0; i < 2_000; i++) call(b, false);
      const s = b.snapshot();
      expect(s.state).toBe(CircuitState.CLOSED);
      expect(s.openedCount).toBe(0);
      expect(s.throttledCalls).toBeGreaterThan(1_900);
    });
  });

  describe('randomness', () => {
    it('comes from the registry (new BreakerRegistry({ random }))', () => {
      const random = steeredRandom(0);
      const registry = new BreakerRegistry({
        clock: new ManualClock(),
        random: random.next,
        breakers: { search: { failureThreshold: Infinity, throttle: { k: 2, windowMs: 1_000 } } },
      });
      const b = registry.get('search');
      call(b, false);
      expect(call(b, true)).toBe('throttled');
      expect(random.calls).toBe(1);
      registry.dispose();
    });

    it('a random source that throws or leaves [0, 1) admits the call, with one warning per breaker', () => {
      const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const b = throttled({ throttle: { k: 2, windowMs: 1_000 } }, () => {
          throw new Error('entropy exhausted');
        });
        call(b, false);
        expect(call(b, true)).toBe('ran-ok');
        expect(call(b, true)).toBe('ran-ok');
        const nan = throttled({ throttle: { k: 2, windowMs: 1_000 } }, () => NaN);
        call(nan, false);
        expect(call(nan, true)).toBe('ran-ok');
        expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
          'breaker "search": random() threw entropy exhausted, not a number in [0, 1); the throttle admits the call',
          'breaker "search": random() returned NaN, not a number in [0, 1); the throttle admits the call',
        ]);
      } finally {
        warn.mockRestore();
      }
    });

    it('rejects a random that is not a function, naming it', () => {
      expect(() => new BreakerRegistry({ random: 0.5 as unknown as () => number })).toThrow(
        new BreakerConfigError('random must be a function returning a number in [0, 1), got 0.5'),
      );
      expect(() => createBreaker('x', {}, { random: 'r' as unknown as () => number })).toThrow(
        'breaker "x": random must be a function returning a number in [0, 1), got "r"',
      );
    });
  });

  describe('option validation', () => {
    it.each([
      [{ k: 0.5, windowMs: 1_000 }, 'breaker "v": throttle.k must be in [1, 1000000], got 0.5'],
      [{ k: NaN, windowMs: 1_000 }, 'breaker "v": throttle.k must be in [1, 1000000], got NaN'],
      [{ windowMs: 1_000 }, 'breaker "v": throttle.k must be in [1, 1000000], got undefined'],
      [{ k: 2, windowMs: 0 }, 'breaker "v": throttle.windowMs must be in (0, 604800000], got 0'],
      [
        { k: 2, windowMs: Infinity },
        'breaker "v": throttle.windowMs must be in (0, 604800000], got Infinity',
      ],
      [
        { k: 2, windowMs: 1_000, kk: 1 },
        'breaker "v": unknown option "throttle.kk" (did you mean "throttle.k"?)',
      ],
      [5, 'breaker "v": throttle must be an object, got 5'],
    ])('rejects throttle %p', (throttle, message) => {
      expect(() => createBreaker('v', { throttle } as unknown as BreakerOptions)).toThrow(
        new BreakerConfigError(message),
      );
    });

    it('accepts k = 1 and failureThreshold: Infinity beside it', () => {
      const b = createBreaker('v', { failureThreshold: Infinity, throttle: { k: 1, windowMs: 1 } });
      expect(b.options.throttle).toEqual({ k: 1, windowMs: 1 });
      expect(b.options.failureThreshold).toBe(Infinity);
    });
  });

  describe('AdaptiveThrottle counts', () => {
    it('keep O(1) running totals over buckets of windowMs / 60', () => {
      const t = new AdaptiveThrottle(2, 60_000);
      t.record(0, false);
      t.record(500, true);
      t.record(30_000, false);
      expect([t.requests, t.accepts]).toEqual([3, 1]);
      expect(t.probability(30_000)).toBeCloseTo(expectedProbability(3, 1, 2), 12);
      t.probability(60_000); // the bucket of 0..999 ms leaves
      expect([t.requests, t.accepts]).toEqual([1, 0]);
      t.probability(90_000);
      expect([t.requests, t.accepts]).toEqual([0, 0]);
    });

    it('count a refused call at once and can take that refusal back', () => {
      const t = new AdaptiveThrottle(2, 1_000);
      t.record(0, false);
      expect(t.admits(0, () => 0, { name: 't' })).toBe(false);
      expect([t.requests, t.lastProbability]).toEqual([2, 0.5]);
      t.forgetRefusal();
      expect(t.requests).toBe(1);
    });
  });
});
