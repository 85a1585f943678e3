// breakerFetch with the breaker's own policies (retry, fallback, bulkhead) configured per origin.
import {
  BreakerRegistry,
  CircuitOpenError,
  CircuitState,
  ManualClock,
  ResultFailureError,
} from '../../../lib/core';
import { breakerFetch } from '../../../lib/integrations/fetch';
import { hang, startDownstream, status, type Downstream } from '../downstream';

const noWait = { type: 'constant', baseMs: 0, maxMs: 0, jitter: 'none' } as const;

describe('breakerFetch with retry, fallback and bulkhead', () => {
  let api: Downstream;
  let clock: ManualClock;

  beforeEach(async () => {
    api = await startDownstream();
    clock = new ManualClock(1_000_000);
  });
  afterEach(() => api.close());

  it('retries a 5xx and returns the first good response', async () => {
    const registry = new BreakerRegistry({ clock, defaults: { retry: { maxAttempts: 3, backoff: noWait } } });
    const fetch = breakerFetch(registry);
    api.sequence(status(503), status(502), status(200, 'third time'));
    const res = await fetch(`${api.origin}/x`);
    expect(await res.text()).toBe('third time');
    expect(api.requests).toBe(3);
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      failedCalls: 2,
      successfulCalls: 1,
    });
  });

  it('resolves with the last failed response once the attempts are used up', async () => {
    const registry = new BreakerRegistry({
      clock,
      defaults: { failureThreshold: 10, retry: { maxAttempts: 3, backoff: noWait } },
    });
    const fetch = breakerFetch(registry);
    api.sequence(status(500, 'one'), status(500, 'two'), status(500, 'three'));
    const res = await fetch(`${api.origin}/x`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('three');
    expect(api.requests).toBe(3);
  });

  it('re-sends a Request body on each attempt', async () => {
    const registry = new BreakerRegistry({ clock, defaults: { retry: { maxAttempts: 2, backoff: noWait } } });
    const fetch = breakerFetch(registry);
    api.sequence(status(500), status(201));
    const res = await fetch(new Request(`${api.origin}/orders`, { method: 'POST', body: '{"id":7}' }));
    expect(res.status).toBe(201);
    expect(api.bodies).toEqual(['{"id":7}', '{"id":7}']);
  });

  it('stops retrying once the circuit opens: the open circuit is never retried and sends nothing', async () => {
    const registry = new BreakerRegistry({
      clock,
      defaults: { failureThreshold: 2, retry: { maxAttempts: 5, backoff: noWait } },
    });
    const fetch = breakerFetch(registry);
    api.respond(status(500));
    await expect(fetch(`${api.origin}/x`)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(api.requests).toBe(2);
  });

  it('serves a fallback (called with input, init, signal, error) while the circuit is open', async () => {
    const seen: unknown[][] = [];
    const registry = new BreakerRegistry({
      clock,
      defaults: { failureThreshold: 1 },
      breakers: {
        [api.origin]: {
          failureThreshold: 1,
          fallback: (...args: unknown[]) => {
            seen.push(args);
            return new Response('cached', { status: 200 });
          },
        },
      },
    });
    const fetch = breakerFetch(registry);
    api.respond(status(500));
    // The 500 itself is a failure: the fallback answers it.
    expect(await (await fetch(`${api.origin}/a`)).text()).toBe('cached');
    expect(seen[0][3]).toBeInstanceOf(ResultFailureError);
    expect(((seen[0][3] as ResultFailureError).result as Response).status).toBe(500);
    // Open now: the fallback answers without sending.
    const res = await fetch(`${api.origin}/b`, { method: 'GET' });
    expect(await res.text()).toBe('cached');
    expect(api.requests).toBe(1);
    expect(seen[1][0]).toBe(`${api.origin}/b`);
    expect(seen[1][1]).toEqual({ method: 'GET' });
    expect(seen[1][2]).toBeUndefined();
    expect(seen[1][3]).toBeInstanceOf(CircuitOpenError);
    expect(registry.get('fetch', api.origin).snapshot().fallbacks).toBe(2);
  });

  it('rejects at once when the bulkhead is full, without counting a failure', async () => {
    const registry = new BreakerRegistry({ clock, defaults: { bulkhead: { maxConcurrent: 1 } } });
    const fetch = breakerFetch(registry);
    api.respond(hang);
    const arrived = api.nextRequest();
    const first = fetch(`${api.origin}/slow`);
    const { res } = await arrived;
    await expect(fetch(`${api.origin}/x`)).rejects.toMatchObject({ code: 'EBULKHEADFULL' });
    expect(api.requests).toBe(1);
    res.writeHead(200).end('done');
    expect(await (await first).text()).toBe('done');
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      failedCalls: 0,
      rejectedCalls: 1,
    });
  });
});
