import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createBreaker,
  ManualClock,
  ResultFailureError,
  type BreakerEvent,
  type ErrorSummary,
} from '../../lib/core';
import { failSync, TestError } from './support';

// API.md, "What events retain": events$ subscribers get the error object; what is kept holds a summary
// { type, message (<= 1,000 chars), code?, status? } and never the error, a response or a body.

describe('what events retain', () => {
  it('keeps a placeholder summary when reading the error throws (a hostile getter), and the call still fails normally', () => {
    const b = createBreaker('payment', { failureThreshold: 100 }, { clock: new ManualClock(7) });
    const hostile = new TestError('hostile');
    Object.defineProperty(hostile, 'name', {
      get() {
        throw new Error('boom');
      },
    });
    expect(() => failSync(b, hostile)).not.toThrow();
    expect(b.snapshot().failedCalls).toBe(1);
    expect(b.recentEvents()[0].error).toEqual({
      type: 'unknown',
      message: 'an error whose properties could not be read',
    });
  });

  it('keeps a summary of the error in the recent-events ring, the object itself for subscribers', () => {
    const b = createBreaker('payment', { failureThreshold: 100 }, { clock: new ManualClock(7) });
    const seen: BreakerEvent[] = [];
    const sub = b.events$.subscribe((e) => seen.push(e));
    const error = Object.assign(new TestError('card declined'), { code: 'E_DECLINED', status: 402 });
    failSync(b, error);
    sub.unsubscribe();
    expect(seen[0].error).toBe(error);
    const kept = b.recentEvents()[0];
    expect(kept).toEqual({
      type: 'failure',
      name: 'payment',
      at: 7,
      error: { type: 'TestError', message: 'card declined', code: 'E_DECLINED', status: 402 },
    });
  });

  it('takes the status from error.response.status and cuts the message at 1,000 characters', () => {
    const b = createBreaker('payment', { failureThreshold: 100 });
    failSync(b, Object.assign(new Error('x'.repeat(5_000)), { response: { status: 503, data: 'body' } }));
    const summary = b.recentEvents()[0].error as ErrorSummary;
    expect(summary.status).toBe(503);
    expect(summary.message).toHaveLength(1_000);
    expect(Object.keys(summary).sort()).toEqual(['message', 'status', 'type']);
  });

  it('summarises thrown non-errors without keeping them', () => {
    const b = createBreaker('payment', { failureThreshold: 100 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    failSync(b, circular);
    failSync(b, 'plain string');
    expect(b.recentEvents().map((e) => e.error)).toEqual([
      { type: 'object', message: '[object Object]' },
      { type: 'string', message: 'plain string' },
    ]);
  });

  it('bounds a breaker by recentEventsSize, whatever its failed results hold (50 x 1 MB responses)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const b = createBreaker('payment', {
      failureThreshold: 1_000,
      isResultFailure: (r) => (r as { status: number }).status >= 500,
      fallback: { value: 'served' },
    });
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50; i++) {
      const response = { status: 503, body: 'x'.repeat(1024 * 1024) + String(i) };
      b.executeSync(() => response);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(b.recentEvents()[0].error).toMatchObject({ type: 'ResultFailureError' });
    expect(b.recentEvents()[0].error).not.toBeInstanceOf(ResultFailureError);
    // Kept whole, the 50 responses would hold 50 MB.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
  });
});
