import {
  BreakerConfigError,
  BreakerRegistry,
  CallTimeoutError,
  CircuitOpenError,
  CircuitState,
  ManualClock,
} from '../../../lib/core';
import { breakerFetch as fromRoot } from '../../../lib';
import { breakerFetch } from '../../../lib/integrations/fetch';
import { hang, refusingOrigin, startDownstream, status, type Downstream } from '../downstream';

describe('breakerFetch', () => {
  let api: Downstream;
  let other: Downstream;
  let clock: ManualClock;

  beforeEach(async () => {
    api = await startDownstream();
    other = await startDownstream();
    clock = new ManualClock(1_000_000);
  });
  afterEach(async () => {
    await api.close();
    await other.close();
  });

  function setup(options: ConstructorParameters<typeof BreakerRegistry>[0] = {}) {
    const registry = new BreakerRegistry({ clock, ...options });
    return { registry, fetch: breakerFetch(registry) };
  }

  it('is the same function from the root entry point', () => {
    expect(fromRoot).toBe(breakerFetch);
  });

  it('passes a healthy response through and records a success on the origin breaker', async () => {
    const { registry, fetch } = setup();
    const res = await fetch(`${api.origin}/items/1?x=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(registry.keys('fetch')).toEqual([api.origin]);
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      totalCalls: 1,
      successfulCalls: 1,
      failedCalls: 0,
    });
  });

  it('resolves a 5xx with its Response, counts it as failure, and trips at the threshold', async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 3 } });
    api.respond(status(503, 'down'));
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${api.origin}/x`);
      expect(res.status).toBe(503);
      expect(await res.text()).toBe('down');
    }
    const snap = registry.get('fetch', api.origin).snapshot();
    expect(snap.failedCalls).toBe(3);
    expect(snap.state).toBe(CircuitState.OPEN);
  });

  it('does not count 4xx as failures', async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(status(404, 'nope'));
    for (let i = 0; i < 5; i++) expect((await fetch(`${api.origin}/missing`)).status).toBe(404);
    const snap = registry.get('fetch', api.origin).snapshot();
    expect(snap).toMatchObject({ state: CircuitState.CLOSED, failedCalls: 0, successfulCalls: 5 });
  });

  it('rejects with CircuitOpenError without sending anything while open', async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 2, halfOpenAfterMs: 10_000 } });
    api.respond(status(500));
    await fetch(`${api.origin}/a`);
    await fetch(`${api.origin}/a`);
    expect(api.requests).toBe(2);
    for (let i = 0; i < 5; i++) {
      const error = await fetch(`${api.origin}/a`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(error).toMatchObject({ breakerName: 'fetch', key: api.origin, retryAfterMs: 10_000 });
    }
    expect(api.requests).toBe(2);
    expect(registry.get('fetch', api.origin).snapshot().rejectedCalls).toBe(5);
  });

  it('counts a refused connection as a failure and trips on it', async () => {
    const dead = await refusingOrigin();
    const { registry, fetch } = setup({ defaults: { failureThreshold: 2 } });
    for (let i = 0; i < 2; i++) {
      // (undici's TypeError comes from another realm than jest's: match by message and cause.)
      const error = await fetch(`${dead}/x`).catch((e: unknown) => e);
      expect(error).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
    }
    expect(registry.get('fetch', dead).state).toBe(CircuitState.OPEN);
    await expect(fetch(`${dead}/x`)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('counts a server that closes the connection mid-request as a failure', async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 1 } });
    api.respond((req) => req.socket.destroy());
    await expect(fetch(`${api.origin}/x`)).rejects.toThrow('fetch failed');
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      failedCalls: 1,
      state: CircuitState.OPEN,
    });
  });

  it('lets exactly one probe through once halfOpenAfterMs has passed on the clock, and closes on success', async () => {
    const { registry, fetch } = setup({
      defaults: { failureThreshold: 1, halfOpenAfterMs: 5_000, successThreshold: 1, halfOpenMaxCalls: 1 },
    });
    api.respond(status(502));
    await fetch(`${api.origin}/x`);
    const breaker = registry.get('fetch', api.origin);
    expect(breaker.state).toBe(CircuitState.OPEN);

    clock.advance(4_999);
    await expect(fetch(`${api.origin}/x`)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(api.requests).toBe(1);

    clock.advance(1);
    api.respond(hang);
    const arrived = api.nextRequest();
    const probe = fetch(`${api.origin}/probe`);
    const { res } = await arrived;
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    // The probe is in flight: a second caller is turned away without sending.
    await expect(fetch(`${api.origin}/x`)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(api.requests).toBe(2);
    res.writeHead(200).end('back');
    expect(await (await probe).text()).toBe('back');
    expect(breaker.state).toBe(CircuitState.CLOSED);
  });

  it('re-opens when the half-open probe gets a 5xx', async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 1, halfOpenAfterMs: 1_000 } });
    api.respond(status(500));
    await fetch(`${api.origin}/x`);
    clock.advance(1_000);
    expect((await fetch(`${api.origin}/x`)).status).toBe(500);
    const snap = registry.get('fetch', api.origin).snapshot();
    expect(snap).toMatchObject({ state: CircuitState.OPEN, openedCount: 2 });
    expect(api.requests).toBe(2);
  });

  it('keeps one breaker per origin by default: a failing origin does not block another', async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(status(500));
    await fetch(`${api.origin}/x`);
    await expect(fetch(`${api.origin}/y`)).rejects.toBeInstanceOf(CircuitOpenError);
    expect((await fetch(`${other.origin}/y`)).status).toBe(200);
    expect(registry.keys('fetch').sort()).toEqual([api.origin, other.origin].sort());
    expect(registry.get('fetch', other.origin).state).toBe(CircuitState.CLOSED);
  });

  it("takes each origin's own configuration from the registry", async () => {
    const { registry, fetch } = setup({
      defaults: { failureThreshold: 3 },
      breakers: { [api.origin]: { failureThreshold: 1 } },
    });
    api.respond(status(500));
    other.respond(status(500));
    await fetch(`${api.origin}/x`);
    await fetch(`${other.origin}/x`);
    await fetch(`${other.origin}/x`);
    expect(registry.get('fetch', api.origin).state).toBe(CircuitState.OPEN);
    expect(registry.get('fetch', other.origin).state).toBe(CircuitState.CLOSED);
    await fetch(`${other.origin}/x`);
    expect(registry.get('fetch', other.origin).state).toBe(CircuitState.OPEN);
  });

  it('names breakers by a custom rule, configured per name', async () => {
    const registry = new BreakerRegistry({ clock, breakers: { payments: { failureThreshold: 1 } } });
    const fetch = breakerFetch(registry, {
      name: (url) => (url.pathname.startsWith('/payments') ? 'payments' : 'catalogue'),
    });
    api.respond(status(500));
    await fetch(`${api.origin}/payments/42`);
    await expect(fetch(`${other.origin}/payments/1`)).rejects.toBeInstanceOf(CircuitOpenError);
    expect((await fetch(`${api.origin}/catalogue`)).status).toBe(500);
    expect(registry.get('catalogue').state).toBe(CircuitState.CLOSED);
    expect(registry.names().sort()).toEqual(['catalogue', 'payments']);
  });

  it('applies a custom isFailureStatus (429 counts, 503 does not)', async () => {
    const registry = new BreakerRegistry({ clock, defaults: { failureThreshold: 1 } });
    const fetch = breakerFetch(registry, { isFailureStatus: (s) => s === 429 });
    api.respond(status(503));
    await fetch(`${api.origin}/x`);
    expect(registry.get('fetch', api.origin).state).toBe(CircuitState.CLOSED);
    api.respond(status(429));
    await fetch(`${api.origin}/x`);
    expect(registry.get('fetch', api.origin).state).toBe(CircuitState.OPEN);
  });

  it("records a failure status even when the breaker's own classification ignores every error", async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 1, isFailure: () => false } });
    api.respond(status(500));
    expect((await fetch(`${api.origin}/x`)).status).toBe(500);
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      failedCalls: 1,
      state: CircuitState.OPEN,
    });
  });

  it("still lets the breaker's isResultFailure judge the other responses", async () => {
    const { registry, fetch } = setup({
      defaults: { failureThreshold: 1, isResultFailure: (r) => (r as Response).status === 404 },
    });
    api.respond(status(404));
    expect((await fetch(`${api.origin}/x`)).status).toBe(404);
    expect(registry.get('fetch', api.origin).state).toBe(CircuitState.OPEN);
  });

  it('aborts the request on callTimeoutMs (the server sees the connection close) and counts a timeout', async () => {
    const { registry, fetch } = setup({ defaults: { callTimeoutMs: 50, failureThreshold: 1 } });
    api.respond(hang);
    const abandoned = api.nextAbandon();
    const error = await fetch(`${api.origin}/slow`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallTimeoutError);
    await abandoned;
    expect(api.abandoned).toBe(1);
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      timeouts: 1,
      state: CircuitState.OPEN,
    });
  });

  it("merges the caller's signal: aborting it cancels the request", async () => {
    const { fetch } = setup({ defaults: { callTimeoutMs: 60_000 } });
    api.respond(hang);
    const controller = new AbortController();
    const arrived = api.nextRequest();
    const abandoned = api.nextAbandon();
    const pending = fetch(`${api.origin}/slow`, { signal: controller.signal });
    await arrived;
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    await abandoned;
  });

  it('counts a request the caller aborts as cancelled, not as a failure of the downstream', async () => {
    const { registry, fetch } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(hang);
    const controller = new AbortController();
    const arrived = api.nextRequest();
    const abandoned = api.nextAbandon();
    const pending = fetch(`${api.origin}/slow`, { signal: controller.signal });
    await arrived;
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await abandoned;
    expect(registry.get('fetch', api.origin).snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      failedCalls: 0,
      cancelledCalls: 1,
    });
  });

  it('rejects a request whose signal is already aborted without sending or counting it', async () => {
    const { registry, fetch } = setup();
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(fetch(`${api.origin}/x`, { signal: controller.signal })).rejects.toThrow('too late');
    expect(api.requests).toBe(0);
    expect(registry.has(api.origin)).toBe(false);
  });

  it('accepts URL and Request inputs like fetch', async () => {
    const { registry, fetch } = setup();
    expect((await fetch(new URL('/u', api.origin))).status).toBe(200);
    const res = await fetch(new Request(`${api.origin}/r`, { method: 'POST', body: 'payload' }));
    expect(res.status).toBe(200);
    expect(api.bodies).toEqual(['', 'payload']);
    expect(registry.get('fetch', api.origin).snapshot().successfulCalls).toBe(2);
  });

  it('sends through a custom fetch when given one', async () => {
    const seen: string[] = [];
    const registry = new BreakerRegistry({ clock });
    const fetch = breakerFetch(registry, {
      fetch: (input, init) => {
        seen.push(String(input));
        return globalThis.fetch(input, init);
      },
    });
    await fetch(`${api.origin}/via-custom`);
    expect(seen).toEqual([`${api.origin}/via-custom`]);
  });

  it('rejects a relative URL with a clear error before any breaker is made', async () => {
    const { registry, fetch } = setup();
    await expect(fetch('/relative')).rejects.toThrow(
      'breakerFetch: cannot send to "/relative": not an absolute URL',
    );
    expect(registry.names()).toEqual([]);
  });

  it('rejects bad options with errors that name them', () => {
    const registry = new BreakerRegistry();
    expect(() => breakerFetch(registry, { name: 'origin' as never })).toThrow(
      'breakerFetch: name must be a function (url) => string, got "origin"',
    );
    expect(() => breakerFetch(registry, { isFailureStatus: 500 as never })).toThrow(BreakerConfigError);
    expect(() => breakerFetch(registry, { fetch: {} as never })).toThrow(
      'breakerFetch: fetch must be a function',
    );
    expect(() => breakerFetch(registry, { nmae: () => 'x' } as never)).toThrow(
      'breakerFetch: unknown option "nmae" (known: name, family, isFailureStatus, retryAfter, fetch)',
    );
    expect(() => breakerFetch(registry, { retryAfter: { maxMs: -1 } })).toThrow(
      'breakerFetch: retryAfter.maxMs must be a finite number of ms >= 0, got -1',
    );
    expect(() => breakerFetch(undefined as never)).toThrow(
      'breakerFetch: registry must be a BreakerRegistry',
    );
  });

  it('rejects a request whose name rule returns no name, naming the URL', async () => {
    const registry = new BreakerRegistry({ clock });
    const fetch = breakerFetch(registry, { name: () => '' });
    await expect(fetch(`${api.origin}/x`)).rejects.toThrow(
      `breakerFetch: the name rule returned "" for ${api.origin}/x; it must return a non-empty string`,
    );
    expect(api.requests).toBe(0);
  });
});
