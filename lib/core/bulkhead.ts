import { BulkheadFullError } from './errors';
import type { ResolvedBulkhead } from './options';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  /** Set once the waiter left the queue (served, timed out or aborted). */
  done: boolean;
  timer?: ReturnType<typeof setTimeout>;
  cleanup?: () => void;
}

/**
 * At most `maxConcurrent` calls run at once; up to `maxQueue` more wait in FIFO order; the rest are
 * refused at once. A slot freed by a finishing call is handed straight to the oldest waiter.
 */
export class Bulkhead {
  active = 0;
  queued = 0;
  private queue: Waiter[] = [];
  private head = 0;

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
      const waiter: Waiter = { resolve, reject, done: false };
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
      this.queue.push(waiter);
      this.queued++;
    });
  }

  /** Frees a slot: the oldest live waiter takes it over, or the slot becomes free. */
  leave(): void {
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as Waiter;
      if (waiter.done) continue;
      this.settle(waiter);
      this.compact();
      waiter.resolve();
      return;
    }
    this.compact();
    this.active--;
  }

  /** Rejects every waiter (the registry is closing). */
  rejectAll(error: unknown): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const waiter = this.queue[i];
      if (waiter !== undefined && !waiter.done) {
        this.settle(waiter);
        waiter.reject(error);
      }
    }
    this.queue = [];
    this.head = 0;
  }

  private leaveQueue(waiter: Waiter, error: unknown): void {
    if (waiter.done) return;
    this.settle(waiter);
    waiter.reject(error);
  }

  private settle(waiter: Waiter): void {
    waiter.done = true;
    this.queued--;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.cleanup?.();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      // Already empty: the uncontended case comes here on every call, and must not allocate.
      if (this.head === 0) return;
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
