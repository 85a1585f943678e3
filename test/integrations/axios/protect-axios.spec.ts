import axios, { AxiosError, type AxiosInstance } from 'axios';
import {
  BreakerConfigError,
  BreakerRegistry,
  CallTimeoutError,
  CircuitOpenError,
  CircuitState,
  ManualClock,
} from '../../../lib/core';
import { protectAxios } from '../../../lib/integrations/axios';
import { hang, refusingOrigin, startDownstream, status, type Downstream } from '../downstream';

describe('protectAxios', () => {
  let api: Downstream;
  let other: Downstream;
  let clock: ManualClock;
  let unprotect: (() => void) | undefined;

  beforeEach(async () => {
    api = await startDownstream();
    other = await startDownstream();
    clock = new ManualClock(1_000_000);
  });
  afterEach(async () => {
    unprotect?.();
    unprotect = undefined;
    await api.close();
    await other.close();
  });

  function setup(options: ConstructorParameters<typeof BreakerRegistry>[0] = {}, instance?: AxiosInstance) {
    const registry = new BreakerRegistry({ clock, ...options });
    const http = instance ?? axios.create({ baseURL: api.origin });
    unprotect = protectAxios(http, registry);
    return { registry, http };
  }

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    );

  it('sends a healthy request through the breaker named after the origin', async () => {
    const { registry, http } = setup();
    const res = await http.get('/items/1', { params: { q: 1 } });
    expect(res.data).toBe('ok');
    expect(registry.keys('axios')).toEqual([api.origin]);
    expect(registry.get('axios', api.origin).snapshot()).toMatchObject({
      successfulCalls: 1,
      failedCalls: 0,
    });
  });

  it('counts 5xx as failures, rejects them as axios does, and trips at the threshold', async () => {
    const { registry, http } = setup({ defaults: { failureThreshold: 3 } });
    api.respond(status(503, 'down'));
    for (let i = 0; i < 3; i++) {
      const error = await failure(http.get('/x'));
      expect(error).toBeInstanceOf(AxiosError);
      expect(error).toMatchObject({
        code: AxiosError.ERR_BAD_RESPONSE,
        message: 'Request failed with status code 503',
        response: { status: 503, data: 'down' },
      });
    }
    expect(registry.get('axios', api.origin).snapshot()).toMatchObject({
      failedCalls: 3,
      state: CircuitState.OPEN,
    });
  });

  it('lets a 5xx resolve when the request accepts it through validateStatus, still counting it', async () => {
    const { registry, http } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(status(500, 'boom'));
    const res = await http.get('/x', { validateStatus: () => true });
    expect(res).toMatchObject({ status: 500, data: 'boom' });
    expect(registry.get('axios', api.origin).state).toBe(CircuitState.OPEN);
  });

  it('does not count 4xx as failures, yet rejects them exactly as axios would', async () => {
    const { registry, http } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(status(404, 'nope'));
    for (let i = 0; i < 5; i++) {
      const error = await failure(http.get('/missing'));
      expect(error).toBeInstanceOf(AxiosError);
      expect(error).toMatchObject({
        code: AxiosError.ERR_BAD_REQUEST,
        response: { status: 404, data: 'nope' },
      });
    }
    expect(registry.get('axios', api.origin).snapshot()).toMatchObject({
      state: CircuitState.CLOSED,
      failedCalls: 0,
      successfulCalls: 5,
    });
  });

  it('rejects with CircuitOpenError without sending anything while open', async () => {
    const { registry, http } = setup({ defaults: { failureThreshold: 2, halfOpenAfterMs: 10_000 } });
    api.respond(status(500));
    await failure(http.get('/a'));
    await failure(http.post('/a', { id: 1 }));
    expect(api.requests).toBe(2);
    for (let i = 0; i < 5; i++) {
      const error = await failure(http.put('/a', { id: 2 }));
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(error).toMatchObject({ breakerName: 'axios', key: api.origin, retryAfterMs: 10_000 });
    }
    expect(api.requests).toBe(2);
    expect(registry.get('axios', api.origin).snapshot().rejectedCalls).toBe(5);
  });

  it('counts a refused connection as a failure and trips on it', async () => {
    const dead = await refusingOrigin();
    const { registry, http } = setup({ defaults: { failureThreshold: 2 } }, axios.create({ baseURL: dead }));
    for (let i = 0; i < 2; i++) {
      expect(await failure(http.get('/x'))).toMatchObject({ code: 'ECONNREFUSED' });
    }
    expect(registry.get('axios', dead).state).toBe(CircuitState.OPEN);
    expect(await failure(http.get('/x'))).toBeInstanceOf(CircuitOpenError);
  });

  it("counts axios's own timeout as a failure, and the server sees the connection close", async () => {
    const { registry, http } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(hang);
    const abandoned = api.nextAbandon();
    expect(await failure(http.get('/slow', { timeout: 50 }))).toMatchObject({ code: 'ECONNABORTED' });
    await abandoned;
    expect(registry.get('axios', api.origin).snapshot()).toMatchObject({
      failedCalls: 1,
      state: CircuitState.OPEN,
    });
  });

  it('aborts the request on callTimeoutMs (the server sees the connection close) and counts a timeout', async () => {
    const { registry, http } = setup({ defaults: { callTimeoutMs: 50, failureThreshold: 1 } });
    api.respond(hang);
    const abandoned = api.nextAbandon();
    expect(await failure(http.get('/slow'))).toBeInstanceOf(CallTimeoutError);
    await abandoned;
    expect(api.abandoned).toBe(1);
    expect(registry.get('axios', api.origin).snapshot()).toMatchObject({
      timeouts: 1,
      state: CircuitState.OPEN,
    });
  });

  it("keeps the caller's signal working alongside callTimeoutMs", async () => {
    const { http } = setup({ defaults: { callTimeoutMs: 60_000 } });
    api.respond(hang);
    const controller = new AbortController();
    const arrived = api.nextRequest();
    const abandoned = api.nextAbandon();
    const pending = failure(http.get('/slow', { signal: controller.signal }));
    await arrived;
    controller.abort();
    expect(axios.isCancel(await pending)).toBe(true);
    await abandoned;
  });

  it('lets exactly one probe through once halfOpenAfterMs has passed on the clock', async () => {
    const { registry, http } = setup({
      defaults: { failureThreshold: 1, halfOpenAfterMs: 5_000, successThreshold: 1 },
    });
    api.respond(status(502));
    await failure(http.get('/x'));
    const breaker = registry.get('axios', api.origin);
    clock.advance(4_999);
    expect(await failure(http.get('/x'))).toBeInstanceOf(CircuitOpenError);
    expect(api.requests).toBe(1);

    clock.advance(1);
    api.respond(hang);
    const arrived = api.nextRequest();
    const probe = http.get('/probe');
    const { res } = await arrived;
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    expect(await failure(http.get('/x'))).toBeInstanceOf(CircuitOpenError);
    expect(api.requests).toBe(2);
    res.writeHead(200).end('back');
    expect((await probe).data).toBe('back');
    expect(breaker.state).toBe(CircuitState.CLOSED);
  });

  it('keeps one breaker per origin, each with its own registry configuration', async () => {
    const http = axios.create();
    const { registry } = setup(
      { defaults: { failureThreshold: 3 }, breakers: { [api.origin]: { failureThreshold: 1 } } },
      http,
    );
    api.respond(status(500));
    other.respond(status(500));
    await failure(http.get(`${api.origin}/x`));
    await failure(http.get(`${other.origin}/x`));
    expect(registry.get('axios', api.origin).state).toBe(CircuitState.OPEN);
    expect(registry.get('axios', other.origin).state).toBe(CircuitState.CLOSED);
    other.respond(status(200));
    expect((await http.get(`${other.origin}/y`)).status).toBe(200);
    expect(await failure(http.get(`${api.origin}/y`))).toBeInstanceOf(CircuitOpenError);
    expect(registry.keys('axios').sort()).toEqual([api.origin, other.origin].sort());
  });

  it('names breakers by a custom rule that also sees the request config', async () => {
    const registry = new BreakerRegistry({ clock, breakers: { 'inventory:write': { failureThreshold: 1 } } });
    const http = axios.create({ baseURL: api.origin });
    unprotect = protectAxios(http, registry, {
      name: (url, config) => `${url.pathname.split('/')[1]}:${config.method === 'get' ? 'read' : 'write'}`,
    });
    api.respond(status(500));
    await failure(http.post('/inventory/1', {}));
    expect(await failure(http.put('/inventory/2', {}))).toBeInstanceOf(CircuitOpenError);
    expect(await failure(http.get('/inventory/2'))).toMatchObject({ response: { status: 500 } });
    expect(registry.names().sort()).toEqual(['inventory:read', 'inventory:write']);
  });

  it('applies a custom isFailureStatus and honours Retry-After on a counted 429', async () => {
    const registry = new BreakerRegistry({
      clock,
      defaults: { failureThreshold: 1, halfOpenAfterMs: 1_000 },
    });
    const http = axios.create({ baseURL: api.origin });
    unprotect = protectAxios(http, registry, { isFailureStatus: (s) => s === 429 });
    api.respond(status(503));
    await failure(http.get('/x'));
    expect(registry.get('axios', api.origin).state).toBe(CircuitState.CLOSED);
    api.respond(status(429, 'slow down', { 'retry-after': '12' }));
    expect(await failure(http.get('/x'))).toMatchObject({ response: { status: 429 } });
    expect(registry.get('axios', api.origin).snapshot()).toMatchObject({
      state: CircuitState.OPEN,
      retryAfterMs: 12_000,
    });
  });

  it('covers a request that brings its own adapter', async () => {
    const { registry, http } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(status(500));
    await failure(http.get('/x', { adapter: 'fetch' }));
    expect(registry.get('axios', api.origin).state).toBe(CircuitState.OPEN);
    expect(await failure(http.get('/x', { adapter: 'http' }))).toBeInstanceOf(CircuitOpenError);
    expect(api.requests).toBe(1);
  });

  it('goes through the breaker once when the same config is sent again (as retry libraries do)', async () => {
    const { registry, http } = setup();
    const first = await http.get('/x');
    await http.request(first.config);
    expect(api.requests).toBe(2);
    expect(registry.get('axios', api.origin).snapshot().totalCalls).toBe(2);
  });

  it('stops protecting after unprotect()', async () => {
    const { registry, http } = setup({ defaults: { failureThreshold: 1 } });
    api.respond(status(500));
    await failure(http.get('/x'));
    unprotect?.();
    const res = await http.get('/x', { validateStatus: () => true });
    expect(res.status).toBe(500);
    expect(api.requests).toBe(2);
    expect(registry.get('axios', api.origin).snapshot().totalCalls).toBe(1);
    // ...and may be protected again.
    unprotect = protectAxios(http, registry);
    expect(await failure(http.get('/x'))).toBeInstanceOf(CircuitOpenError);
  });

  it('refuses to protect an instance twice, and bad arguments, with clear errors', () => {
    const registry = new BreakerRegistry();
    const http = axios.create();
    unprotect = protectAxios(http, registry);
    expect(() => protectAxios(http, registry)).toThrow(
      'protectAxios: this axios instance is already protected',
    );
    expect(() => protectAxios({} as never, registry)).toThrow(
      'protectAxios: instance must be an axios instance',
    );
    expect(() => protectAxios(axios.create(), null as never)).toThrow(
      'protectAxios: registry must be a BreakerRegistry',
    );
    expect(() => protectAxios(axios.create(), registry, { isFailureStatus: true as never })).toThrow(
      BreakerConfigError,
    );
  });

  it('rejects a request without an absolute URL with a clear error, sending nothing', async () => {
    const registry = new BreakerRegistry({ clock });
    const http = axios.create();
    unprotect = protectAxios(http, registry);
    expect(await failure(http.get('/relative'))).toMatchObject({
      message:
        'protectAxios: cannot send to "/relative": not an absolute URL (set baseURL, or an absolute url)',
    });
    expect(registry.names()).toEqual([]);
  });
});
