import type { Clock } from './clock';
import { summarizeError } from './error-summary';
import { EventHub, RingBuffer } from './event-hub';
import type { ResolvedOptions } from './options';
import type { BreakerEvent, BreakerEventType } from './types';

/** Never subscribed to: a breaker swaps in hubs of its own before anyone subscribes (`ownHubs`). */
const IDLE_HUB = new EventHub();

/** Receives every recorded call's duration (e.g. a Prometheus histogram). */
export interface DurationObserver {
  observe(durationMs: number, failed: boolean): void;
}

const NO_OBSERVERS: readonly DurationObserver[] = [];

/**
 * Receives a breaker's notable events (failures, timeouts, ignored errors, rejections, fallbacks and state
 * changes), never its successes: watching them costs a call nothing unless it is notable.
 */
export type NotableEventObserver = (event: BreakerEvent) => void;

const NO_NOTABLE_OBSERVERS: readonly NotableEventObserver[] = [];

/** Event sinks a registry hands to its breakers so `registry.events$` sees every breaker. */
export interface EventSinks {
  calls: EventHub;
  transitions: EventHub;
}

/**
 * The bottom layer of a breaker: where news of it goes (its own event hubs, a registry's sinks, the
 * recent-events ring, duration observers). It decides nothing; the state machine above tells it what
 * happened. A layer of one class rather than an object of its own, so that a breaker stays one object
 * and its hot paths read these fields directly.
 */
export abstract class BreakerReporting {
  // Shared idle hubs until somebody subscribes (ownHubs): thousands of unwatched breakers hold none.
  protected callHub = IDLE_HUB;
  protected transitionHub = IDLE_HUB;
  protected sinks: EventSinks | undefined = undefined;
  /** Created with the first notable event: most breakers never have one. */
  private recent: RingBuffer<BreakerEvent> | undefined = undefined;
  // Replaced, never mutated, by observeDurations: every breaker can start with the one shared empty list.
  protected durationObservers: readonly DurationObserver[] = NO_OBSERVERS;
  // Replaced, never mutated, like durationObservers.
  private notableObservers: readonly NotableEventObserver[] = NO_NOTABLE_OBSERVERS;
  /** The key of a keyed breaker (its `name` is then the family's); set once, by the family that creates it. */
  key: string | undefined = undefined;

  constructor(
    readonly name: string,
    /** @internal */
    readonly options: ResolvedOptions,
    /** @internal */
    readonly clock: Clock,
  ) {}

  /** Connects this breaker's events to a registry's streams. */
  attachSinks(sinks: EventSinks): void {
    this.sinks = sinks;
  }

  /**
   * Hands every recorded call's duration to `observer` until the returned function is called. While any
   * observer is attached, each call reads the clock at its start and end.
   */
  observeDurations(observer: DurationObserver): () => void {
    this.durationObservers = [...this.durationObservers, observer];
    this.updateTiming();
    return () => {
      this.durationObservers = this.durationObservers.filter((o) => o !== observer);
      this.updateTiming();
    };
  }

  /**
   * Hands every notable event of this breaker (see `NotableEventObserver`) to `observer`, synchronously
   * from the call that caused it, until the returned function is called. Unlike `events$`, successes
   * stay on their fast path. The observer must not throw: it runs inside the caller's call.
   */
  observeNotableEvents(observer: NotableEventObserver): () => void {
    this.notableObservers = [...this.notableObservers, observer];
    return () => {
      this.notableObservers = this.notableObservers.filter((o) => o !== observer);
    };
  }

  /** Recomputes which clock reads a call needs (observers need both ends of every call). */
  protected abstract updateTiming(): void;

  protected observeDuration(ms: number, failed: boolean): void {
    const observers = this.durationObservers;
    for (let i = 0; i < observers.length; i++) observers[i].observe(ms, failed);
  }

  /**
   * Recent notable events (transitions, failures, rejections, timeouts, fallbacks, ignored errors), oldest
   * first. Their `error` is an `ErrorSummary`, never the error object.
   */
  recentEvents(): BreakerEvent[] {
    return this.recent === undefined ? [] : this.recent.toArray();
  }

  /**
   * Records a notable event in the ring buffer and hands it to listeners. The ring keeps a summary of the
   * error (a failed result's error may hold a whole response); listeners get the error itself.
   */
  protected note(type: BreakerEventType, error: unknown, durationMs: number | undefined): void {
    const listening = this.callHub.active || (this.sinks !== undefined && this.sinks.calls.active);
    // Nobody would see the event: don't build it (this runs for every failure and rejection).
    const notable = this.notableObservers.length !== 0;
    if (this.options.recentEventsSize === 0 && !listening && !notable) return;
    const at = this.clock.now();
    if (this.options.recentEventsSize !== 0) {
      const kept: BreakerEvent = { type, name: this.name, at };
      if (this.key !== undefined) kept.key = this.key;
      if (durationMs !== undefined) kept.durationMs = durationMs;
      if (error !== undefined) kept.error = summarizeError(error);
      this.remember(kept);
      if (error === undefined) {
        // Nothing to summarize: listeners can share the kept event.
        this.publish(kept);
        this.tellNotable(kept);
        return;
      }
    }
    if (!listening && !notable) return;
    const event: BreakerEvent = { type, name: this.name, at };
    if (this.key !== undefined) event.key = this.key;
    if (durationMs !== undefined) event.durationMs = durationMs;
    if (error !== undefined) event.error = error;
    this.publish(event);
    this.tellNotable(event);
  }

  /** Records a `state_change` and hands it to the transition listeners. */
  protected announce(event: BreakerEvent): void {
    if (this.key !== undefined) event.key = this.key;
    this.remember(event);
    if (this.transitionHub.active) this.transitionHub.emit(event);
    if (this.sinks !== undefined && this.sinks.transitions.active) this.sinks.transitions.emit(event);
    this.tellNotable(event);
  }

  private tellNotable(event: BreakerEvent): void {
    const observers = this.notableObservers;
    for (let i = 0; i < observers.length; i++) observers[i](event);
  }

  private remember(event: BreakerEvent): void {
    if (this.options.recentEventsSize === 0) return;
    (this.recent ??= new RingBuffer(this.options.recentEventsSize)).push(event);
  }

  /** Gives this breaker hubs of its own (before the first subscription). */
  protected ownHubs(): void {
    if (this.callHub === IDLE_HUB) this.callHub = new EventHub();
    if (this.transitionHub === IDLE_HUB) this.transitionHub = new EventHub();
  }

  /** Hands a call event to its listeners (not kept in the ring: successes are not notable). */
  protected publish(event: BreakerEvent): void {
    if (this.key !== undefined) event.key = this.key;
    if (this.callHub.active) this.callHub.emit(event);
    if (this.sinks !== undefined && this.sinks.calls.active) this.sinks.calls.emit(event);
  }
}
