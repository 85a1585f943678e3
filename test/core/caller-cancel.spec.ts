import { CircuitState, createBreaker, ManualClock, type BreakerOptions } from '../../lib/core';

/** A downstream call that honours the caller's signal the way fetch does: it rejects with the abort reason. */
function callHonouring(signal: AbortSignal): Promise<string> {
  return new Promise<string>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function setup(options: BreakerOptions = {}) {
  const clock = new ManualClock();
  return {
    clock,
    b: createBreaker('search', { failureThreshold: 3, halfOpenAfterMs: 1_000, ...options }, { clock }),
  };
}

async function abandoned(b: ReturnType<typeof setup>['b']): Promise<unknown> {
  const controller = new AbortController();
  const call = b
    .executePromise((signal: AbortSignal) => callHonouring(signal), controller.signal)
    .catch((e) => e);
  controller.abort();
  return call;
}

describe('a call the caller abandons (its own signal, the last argument, aborted)', () => {
  it('is a cancellation, not a failure: ten of them leave the circuit closed and the consecutive count untouched', async () => {
    const { b } = setup();
    for (let i = 0; i < 10; i++) expect(await abandoned(b)).toMatchObject({ name: 'AbortError' });
    expect(b.state).toBe(CircuitState.CLOSED);
    expect(b.snapshot()).toMatchObject({ failedCalls: 0, cancelledCalls: 10, consecutiveFailures: 0 });
  });

  it('still counts the same rejection as a failure when the caller did not abort', async () => {
    const { b } = setup();
    const unrelated = new AbortController();
    unrelated.abort();
    for (let i = 0; i < 3; i++) {
      await b.executePromise(() => Promise.reject(unrelated.signal.reason)).catch(() => undefined);
    }
    expect(b.state).toBe(CircuitState.OPEN);
  });

  it('gives its half-open probe permit back', async () => {
    const { b, clock } = setup({ successThreshold: 1 });
    for (let i = 0; i < 3; i++)
      await b.executePromise(() => Promise.reject(new Error('down'))).catch(() => undefined);
    clock.advance(1_000);
    await abandoned(b); // the probe is abandoned: its permit returns
    expect(b.state).toBe(CircuitState.HALF_OPEN);
    await expect(b.executePromise(() => Promise.resolve('up'))).resolves.toBe('up');
    expect(b.state).toBe(CircuitState.CLOSED);
  });

  it('is not retried and gets no fallback', async () => {
    const fallback = jest.fn(() => 'fallback');
    const { b, clock } = setup({
      retry: { maxAttempts: 3, backoff: { type: 'constant', baseMs: 10 } },
      fallback,
    });
    expect(await abandoned(b)).toMatchObject({ name: 'AbortError' });
    expect(fallback).not.toHaveBeenCalled();
    expect(clock.pendingSleeps).toBe(0);
    expect(b.snapshot()).toMatchObject({ totalCalls: 1, failedCalls: 0, cancelledCalls: 1 });
  });

  it('under callTimeoutMs is a cancellation too, not a timeout', async () => {
    const { b } = setup({ callTimeoutMs: 60_000 });
    expect(await abandoned(b)).toMatchObject({ name: 'AbortError' });
    expect(b.snapshot()).toMatchObject({ failedCalls: 0, timeouts: 0, cancelledCalls: 1 });
  });
});
