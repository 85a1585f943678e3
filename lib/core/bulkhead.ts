import { BulkheadFullError } from './errors';
import type { ResolvedBulkhead } from './options';

/** A caller waiting for a slot: a node of the queue's doubly linked list, so it can leave from anywhere. */
interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
  timer?: ReturnType<typeof setTimeout>;
  cleanup?: () => void;
}

/**
 * At most `maxConcurrent` calls run at once; up to `maxQueue` more wait in FIFO order; the rest are
 * refused at once. A slot freed by a finishing call is handed straight to the oldest waiter. A waiter that
 * times out or is aborted leaves the queue at once (a linked list: nothing of it stays behind).
 */
export class Bulkhead {
  active = 0;
  queued = 0;
  private first: Waiter | undefined = undefined;
  private last: Waiter | undefined = undefined;

  constructor(
    private readonly breakerName: string,
    private readonly options: ResolvedBulkhead,
  ) {}

  /** Takes a slot if one is free. */
  tryEnter(): boolean {
    if (this.active < this.options.maxConcurrent) {
      this.active++;
      return true;
    }
    return false;
  }

  get hasQueueRoom(): boolean {
    return this.queued < this.options.maxQueue;
  }

  full(reason?: string): BulkheadFullError {
    return new BulkheadFullError(this.breakerName, this.options.maxConcurrent, this.options.maxQueue, reason);
  }

  /**
   * Waits for a slot (call only when `tryEnter()` failed and `hasQueueRoom`). Resolves holding the slot;
   * rejects with BulkheadFullError on queue timeout, or with the signal's reason when it aborts.
   */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, prev: this.last, next: undefined };
      const timeoutMs = this.options.queueTimeoutMs;
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(
          () => this.leaveQueue(waiter, this.full(`waited ${timeoutMs} ms in its queue`)),
          timeoutMs,
        );
      }
      if (signal !== undefined) {
        const onAbort = () => this.leaveQueue(waiter, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      if (this.last === undefined) this.first = waiter;
      else this.last.next = waiter;
      this.last = waiter;
      this.queued++;
    });
  }

  /** Frees a slot: the oldest waiter takes it over, or the slot becomes free. */
  leave(): void {
    const waiter = this.first;
    if (waiter === undefined) {
      this.active--;
      return;
    }
    this.unlink(waiter);
    waiter.resolve();
  }

  /** Rejects every waiter (the registry is closing). */
  rejectAll(error: unknown): void {
    for (let waiter = this.first; waiter !== undefined; waiter = this.first) {
      this.unlink(waiter);
      waiter.reject(error);
    }
  }

  private leaveQueue(waiter: Waiter, error: unknown): void {
    // Already served or rejected: it is no longer linked.
    if (waiter !== this.first && waiter.prev === undefined) return;
    this.unlink(waiter);
    waiter.reject(error);
  }

  /** Takes `waiter` out of the queue and ends its timer and abort listener. */
  private unlink(waiter: Waiter): void {
    const { prev, next } = waiter;
    if (prev === undefined) this.first = next;
    else prev.next = next;
    if (next === undefined) this.last = prev;
    else next.prev = prev;
    waiter.prev = waiter.next = undefined;
    this.queued--;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.cleanup?.();
  }
}
