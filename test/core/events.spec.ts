import {
  CircuitOpenError,
  CircuitState,
  createBreaker,
  ManualClock,
  type BreakerEvent,
  type BreakerOptions,
} from '../../lib/core';
import { EventHub } from '../../lib/core/event-hub';
import { BreakerStateMachine } from '../../lib/core/state-machine';
import { failSync, succeedSync, TestError } from './support';

/** A ManualClock that counts how often it is read. */
class CountingClock extends ManualClock {
  reads = 0;
  override now(): number {
    this.reads++;
    return super.now();
  }
}

function breaker(options: BreakerOptions = {}, clock = new ManualClock()) {
  return createBreaker('payment', { failureThreshold: 2, halfOpenAfterMs: 1_000, ...options }, { clock });
}

afterEach(() => jest.restoreAllMocks());

describe('events$', () => {
  it('delivers every event: outcomes, rejections, fallbacks and state changes, in order', () => {
    const clock = new ManualClock();
    const b = breaker({ ignoreErrors: [RangeError] }, clock);
    const events: BreakerEvent[] = [];
    const sub = b.events$.subscribe((e) => events.push(e));
    succeedSync(b, 1);
    failSync(b, new RangeError('ignored'));
    const error = new TestError();
    failSync(b);
    failSync(b, error);
    expect(() => succeedSync(b, 2)).toThrow(CircuitOpenError);
    sub.unsubscribe();
    // (The order of a failure and the transition it causes is left open by the contract.)
    const outcomes = events.filter((e) => e.type !== 'state_change');
    expect(outcomes.map((e) => e.type)).toEqual(['success', 'ignored', 'failure', 'failure', 'rejected']);
    expect(events.every((e) => e.name === 'payment')).toBe(true);
    expect(outcomes[3].error).toBe(error);
    expect(outcomes[4].error).toBeInstanceOf(CircuitOpenError);
    const changes = events.filter((e) => e.type === 'state_change');
    expect(changes).toEqual([expect.objectContaining({ from: CircuitState.CLOSED, to: CircuitState.OPEN })]);
    expect(events.indexOf(changes[0])).toBeGreaterThan(events.indexOf(outcomes[2]));
    expect(events.indexOf(changes[0])).toBeLessThan(events.indexOf(outcomes[4]));
  });

  it("stamps each event with the clock's time when it is emitted", () => {
    const clock = new ManualClock(1_700_000_000_000);
    const b = breaker({}, clock);
    const at: number[] = [];
    b.events$.subscribe((e) => at.push(e.at));
    succeedSync(b, 1);
    clock.advance(250);
    failSync(b);
    clock.advance(250);
    failSync(b); // failure + state_change at the same instant
    expect(at).toEqual([1_700_000_000_000, 1_700_000_000_250, 1_700_000_000_500, 1_700_000_000_500]);
  });

  it('reports fallbacks as events', () => {
    const b = breaker({ fallback: { value: 'cached' } });
    b.forceOpen();
    const types: string[] = [];
    b.events$.subscribe((e) => types.push(e.type));
    expect(b.executeSync(() => 'live')).toBe('cached');
    expect(types).toEqual(['rejected', 'fallback']);
  });

  it('stops delivering once unsubscribed, and leaves no listener behind', () => {
    const b = breaker();
    const events: BreakerEvent[] = [];
    const sub = b.events$.subscribe((e) => events.push(e));
    const changes = b.stateChanges$.subscribe(() => undefined);
    expect(b.listenerCount).toBe(3);
    sub.unsubscribe();
    changes.unsubscribe();
    expect(b.listenerCount).toBe(0);
    succeedSync(b, 1);
    expect(events).toEqual([]);
  });
});

describe('stateChanges$', () => {
  it('delivers only state_change events, with from, to and the time', () => {
    const clock = new ManualClock();
    const b = breaker({ successThreshold: 1 }, clock);
    const changes: BreakerEvent[] = [];
    b.stateChanges$.subscribe((e) => changes.push(e));
    succeedSync(b, 1);
    failSync(b);
    failSync(b);
    clock.advance(1_000);
    succeedSync(b, 2);
    b.forceOpen();
    expect(changes.map((e) => [e.from, e.to, e.at])).toEqual([
      [CircuitState.CLOSED, CircuitState.OPEN, 0],
      [CircuitState.OPEN, CircuitState.HALF_OPEN, 1_000],
      [CircuitState.HALF_OPEN, CircuitState.CLOSED, 1_000],
      [CircuitState.CLOSED, CircuitState.FORCED_OPEN, 1_000],
    ]);
    expect(changes[0].retryAfterMs).toBe(1_000);
  });
});

describe('emitting costs nothing when nobody listens', () => {
  it('builds no event for a successful call without an events$ subscriber (the clock is not even read)', () => {
    const clock = new CountingClock();
    const b = breaker({}, clock);
    clock.reads = 0;
    for (let i = 0; i < 100; i++) succeedSync(b, i);
    expect(clock.reads).toBe(0);

    // A stateChanges$ subscriber is the cheap kind: call events are still not built.
    const changes = b.stateChanges$.subscribe(() => undefined);
    for (let i = 0; i < 100; i++) succeedSync(b, i);
    expect(clock.reads).toBe(0);
    changes.unsubscribe();

    // The check can fail: with an events$ subscriber every success reads the clock for its `at`.
    const sub = b.events$.subscribe(() => undefined);
    for (let i = 0; i < 100; i++) succeedSync(b, i);
    expect(clock.reads).toBe(100);
    sub.unsubscribe();
    clock.reads = 0;
    succeedSync(b, 'after');
    expect(clock.reads).toBe(0);
  });

  it('builds no event for failures, rejections or ignored errors without subscribers and without a recent-events ring', () => {
    // Every event note() builds is handed to remember() (kept in the ring) or publish() (delivered), so
    // neither call means no event object.
    const remember = jest.spyOn(
      BreakerStateMachine.prototype as unknown as { remember(e: unknown): void },
      'remember',
    );
    const publish = jest.spyOn(
      BreakerStateMachine.prototype as unknown as { publish(e: unknown): void },
      'publish',
    );
    const push = { mockClear: () => [remember, publish].forEach((s) => s.mockClear()) };
    const built = () => remember.mock.calls.length + publish.mock.calls.length;
    const emit = jest.spyOn(EventHub.prototype, 'emit');
    const b = breaker({ recentEventsSize: 0, failureThreshold: 100, ignoreErrors: [RangeError] });
    for (let i = 0; i < 10; i++) failSync(b);
    for (let i = 0; i < 10; i++) failSync(b, new RangeError());
    expect(built()).toBe(0);
    b.forceOpen(); // a transition always builds its (rare) event
    push.mockClear();
    for (let i = 0; i < 10; i++) expect(() => succeedSync(b, i)).toThrow(CircuitOpenError);
    expect(built()).toBe(0);
    expect(emit).not.toHaveBeenCalled();

    // The check can fail: with a subscriber, each failure is built and delivered.
    b.reset();
    push.mockClear();
    b.events$.subscribe(() => undefined);
    failSync(b);
    expect(built()).toBe(1);
    expect(emit).toHaveBeenCalledTimes(1);
  });
});

describe('recentEvents()', () => {
  it('keeps a bounded ring of the newest notable events, oldest first, without successes', () => {
    const clock = new ManualClock();
    const b = breaker({ recentEventsSize: 3, failureThreshold: 100 }, clock);
    for (let i = 1; i <= 10; i++) {
      clock.set(i);
      failSync(b);
      succeedSync(b, i);
    }
    const recent = b.recentEvents();
    expect(recent.map((e) => [e.type, e.at])).toEqual([
      ['failure', 8],
      ['failure', 9],
      ['failure', 10],
    ]);
  });

  it('keeps state changes and rejections', () => {
    const b = breaker({ failureThreshold: 1 });
    failSync(b);
    expect(() => succeedSync(b, 1)).toThrow(CircuitOpenError);
    expect(
      b
        .recentEvents()
        .map((e) => e.type)
        .sort(),
    ).toEqual(['failure', 'rejected', 'state_change']);
    expect(b.recentEvents()[2].type).toBe('rejected');
  });
});
