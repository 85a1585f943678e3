// Helpers shared by the core specs. Nothing here sleeps: time moves through ManualClock or jest fake timers.
import type { Breaker } from '../../lib/core';

/** A tiny seeded PRNG (mulberry32): the same seed always gives the same sequence in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Freezes an object and everything reachable from it (functions included), so any write throws. */
export function deepFreeze<T>(value: T): T {
  if (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    !Object.isFrozen(value)
  ) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value as object)) {
      deepFreeze((value as Record<string | symbol, unknown>)[key]);
    }
  }
  return value;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class TestError extends Error {
  constructor(message = 'boom') {
    super(message);
    this.name = 'TestError';
  }
}

/** Runs one failing sync call through the breaker and returns what it threw. */
export function failSync(breaker: Breaker, error: unknown = new TestError()): unknown {
  try {
    breaker.executeSync(() => {
      throw error;
    });
  } catch (thrown) {
    return thrown;
  }
  throw new Error('expected the call to throw');
}

/** Runs one successful sync call through the breaker. */
export function succeedSync<T>(breaker: Breaker, value: T): T {
  return breaker.executeSync(() => value);
}

/**
 * Lets pending promise callbacks run until `done()` holds (each round drains the microtask queue and one
 * macrotask turn). Fails loudly instead of hanging when the condition never comes true.
 */
export async function until(done: () => boolean, rounds = 1000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (done()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`condition not reached after ${rounds} rounds`);
}

/** Lets `n` macrotask turns pass (each drains the microtask queue): pending callbacks get every chance to run. */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
