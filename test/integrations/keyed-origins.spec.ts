// Per-origin breakers of breakerFetch and protectAxios are keys of one bounded family.
// Thousands of origins come from host names that a resolver-like step sends to one real local server
// (as DNS would send them to real hosts): the breakers see distinct origins, the requests are real.
import axios, { type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios';
import { BreakerConfigError, BreakerRegistry, CircuitState, ManualClock } from '../../lib/core';
import { protectAxios } from '../../lib/integrations/axios';
import { breakerFetch, type FetchFunction } from '../../lib/integrations/fetch';
import { startDownstream, status, type Downstream } from './downstream';

/** `http://tenant-7.test/x` is sent to the real server, keeping its path. */
function resolveTo(server: Downstream, url: string): string {
  const parsed = new URL(url);
  return `${server.origin}${parsed.pathname}${parsed.search}`;
}

function hostOrigin(i: number): string {
  return `http://tenant-${i}.test`;
}

describe('breakerFetch: per-origin breakers as keys of a family', () => {
  let server: Downstream;
  let clock: ManualClock;
  let resolvingFetch: FetchFunction;

  beforeEach(async () => {
    server = await startDownstream();
    clock = new ManualClock(1_000_000);
    resolvingFetch = (input, init) => fetch(resolveTo(server, String(input)), init);
  });
  afterEach(() => server.close());

  it('keeps 2,000 origins bounded at keys.max, with family totals that count every request', async () => {
    const registry = new BreakerRegistry({ clock });
    const send = breakerFetch(registry, { fetch: resolvingFetch });
    for (let i = 0; i < 2_000; i += 100) {
      const batch = Array.from({ length: 100 }, (_, j) => send(`${hostOrigin(i + j)}/ping`));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(200);
    }
    expect(server.requests).toBe(2_000);
    expect(registry.names()).toEqual(['fetch']);
    expect(registry.keys('fetch')).toHaveLength(1_000);
    expect(registry.keys('fetch')[999]).toBe(hostOrigin(1_999));
    expect(registry.metrics().fetch).toMatchObject({
      totalCalls: 2_000,
      successfulCalls: 2_000,
      keys: { alive: 1_000, open: 0, halfOpen: 0, evicted: 1_000 },
    });
  }, 60_000);

  it('takes the family options from breakers.fetch, and breakers[origin] overrides them for that origin', async () => {
    const registry = new BreakerRegistry({
      clock,
      breakers: {
        fetch: { failureThreshold: 3, keys: { max: 10 } },
        [hostOrigin(1)]: { failureThreshold: 1 },
      },
    });
    server.respond(status(503));
    const send = breakerFetch(registry, { fetch: resolvingFetch });
    await send(`${hostOrigin(1)}/a`);
    await send(`${hostOrigin(2)}/a`);
    expect(registry.get('fetch', hostOrigin(1)).state).toBe(CircuitState.OPEN);
    expect(registry.get('fetch', hostOrigin(2)).snapshot()).toMatchObject({
      name: 'fetch',
      key: hostOrigin(2),
      state: CircuitState.CLOSED,
      consecutiveFailures: 1,
    });
    await send(`${hostOrigin(2)}/a`);
    await send(`${hostOrigin(2)}/a`);
    expect(registry.get('fetch', hostOrigin(2)).state).toBe(CircuitState.OPEN);
    for (let i = 3; i < 30; i++) await send(`${hostOrigin(i)}/a`);
    expect(registry.keys('fetch')).toHaveLength(10);
  });

  it('names another family with the family option', async () => {
    const registry = new BreakerRegistry({ clock, breakers: { partners: { keys: { max: 2 } } } });
    const send = breakerFetch(registry, { fetch: resolvingFetch, family: 'partners' });
    for (let i = 0; i < 5; i++) await send(`${hostOrigin(i)}/a`);
    expect(registry.keys('partners')).toEqual([hostOrigin(3), hostOrigin(4)]);
    expect(registry.keys('fetch')).toEqual([]);
  });

  it('keeps an explicit name rule working: named breakers, no family', async () => {
    const registry = new BreakerRegistry({ clock });
    const send = breakerFetch(registry, { fetch: resolvingFetch, name: (url) => url.hostname.split('.')[0] });
    await send(`${hostOrigin(1)}/a`);
    expect(registry.names()).toEqual(['tenant-1']);
    expect(registry.keys('fetch')).toEqual([]);
  });

  it('rejects a family that is not a non-empty string', () => {
    const registry = new BreakerRegistry({ clock });
    expect(() => breakerFetch(registry, { family: '' })).toThrow(
      new BreakerConfigError('breakerFetch: family must be a non-empty string (a breaker name), got ""'),
    );
    expect(() => breakerFetch(registry, { family: 7 as unknown as string })).toThrow(
      'breakerFetch: family must be a non-empty string (a breaker name), got 7',
    );
  });
});

describe('protectAxios: per-origin breakers as keys of a family', () => {
  let server: Downstream;

  beforeEach(async () => {
    server = await startDownstream();
  });
  afterEach(() => server.close());

  it('keeps 2,000 origins bounded at keys.max in the axios family', async () => {
    const registry = new BreakerRegistry({
      clock: new ManualClock(1_000_000),
      breakers: { axios: { keys: { max: 100 } } },
    });
    const httpAdapter = axios.getAdapter('http');
    const resolving: AxiosAdapter = (config: InternalAxiosRequestConfig) =>
      httpAdapter({ ...config, baseURL: undefined, url: resolveTo(server, String(config.url)) });
    const http = axios.create({ adapter: resolving });
    const unprotect = protectAxios(http, registry);
    try {
      for (let i = 0; i < 2_000; i += 100) {
        const batch = Array.from({ length: 100 }, (_, j) => http.get(`${hostOrigin(i + j)}/ping`));
        for (const res of await Promise.all(batch)) expect(res.status).toBe(200);
      }
    } finally {
      unprotect();
    }
    expect(server.requests).toBe(2_000);
    expect(registry.names()).toEqual(['axios']);
    expect(registry.keys('axios')).toHaveLength(100);
    expect(registry.metrics().axios).toMatchObject({
      totalCalls: 2_000,
      successfulCalls: 2_000,
      keys: { alive: 100, evicted: 1_900 },
    });
  }, 60_000);
});
