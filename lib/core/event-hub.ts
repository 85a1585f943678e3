import type { Observable } from 'rxjs';
import { loadRx } from './rx';
import type { BreakerEvent } from './types';

type Listener = (event: BreakerEvent) => void;

/** Every hub starts with this one list: `add` replaces the list instead of mutating it, so sharing is safe. */
const NO_LISTENERS: readonly Listener[] = [];

/**
 * A list of listeners with an O(1) "is anyone listening" check, so that the breaker builds an event
 * object only when somebody will receive it. Exposed to users as a cold rxjs Observable.
 */
export class EventHub {
  private listeners: readonly Listener[] = NO_LISTENERS;

  get active(): boolean {
    return this.listeners.length !== 0;
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  emit(event: BreakerEvent): void {
    // The array is replaced (not mutated) on subscribe/unsubscribe, so iterating it is safe even if a
    // listener unsubscribes during delivery.
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](event);
  }

  add(listener: Listener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** A cold Observable of this hub's events and, optionally, other hubs' (merged in emission order). */
  observable(...more: EventHub[]): Observable<BreakerEvent> {
    const rx = loadRx();
    const hubs = [this, ...more];
    return new rx.Observable<BreakerEvent>((subscriber) => {
      const listener: Listener = (event) => subscriber.next(event);
      const removers = hubs.map((hub) => hub.add(listener));
      return () => removers.forEach((remove) => remove());
    });
  }
}

/**
 * A bounded ring buffer: keeps the newest `capacity` items. It grows with use (most breakers never record
 * an event, and a few thousand idle breakers should not hold a full ring each) and wraps once full.
 */
export class RingBuffer<T> {
  private readonly items: T[] = [];
  /** Once full: the slot of the oldest item, overwritten next. */
  private next = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }

  get size(): number {
    return this.items.length;
  }
}
