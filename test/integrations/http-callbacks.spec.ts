// API.md, "User callbacks that throw", for the HTTP integrations: a `name` rule that throws or returns
// neither a non-empty string nor undefined sends nothing and records nothing; an `isFailureStatus` that
// throws records the call once, as a failure, and the caller gets BreakerCallbackError (original: the
// response), never retried, never replaced by a fallback. Both against a real local HTTP server.
import axios, { type AxiosResponse } from 'axios';
import { BreakerCallbackError, BreakerRegistry, ManualClock, type BreakerOptions } from '../../lib/core';
import { protectAxios } from '../../lib/integrations/axios';
import { breakerFetch } from '../../lib/integrations/fetch';
import { startDownstream, status, type Downstream } from './downstream';

const broken = new Error('callback bug');
const throwing = (): never => {
  throw broken;
};

/** Retry and a fallback on the family: neither may hide a broken callback. */
const masking: BreakerOptions = {
  failureThreshold: 100,
  retry: { maxAttempts: 3, backoff: { type: 'constant', baseMs: 0, maxMs: 0, jitter: 'none' } },
  fallback: { value: 'served by the fallback' },
};

function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (e: unknown) => e,
  );
}

function expectCallbackError(error: unknown, breakerName: string, callback: string): BreakerCallbackError {
  expect(error).toBeInstanceOf(BreakerCallbackError);
  expect(error).toMatchObject({ code: 'EBREAKERCALLBACK', breakerName, callback });
  return error as BreakerCallbackError;
}

// Each integration as the same small interface: send a GET, and the family of its origin breakers.
interface Client {
  family: string;
  get(url: string): Promise<unknown>;
  teardown(): void;
}
type Rules = Parameters<typeof breakerFetch>[1] & Parameters<typeof protectAxios>[2];

const clients: Record<string, (registry: BreakerRegistry, rules: Rules) => Client> = {
  breakerFetch: (registry, rules) => {
    const fetch = breakerFetch(registry, rules as Parameters<typeof breakerFetch>[1]);
    return { family: 'fetch', get: (url) => fetch(url), teardown: () => undefined };
  },
  protectAxios: (registry, rules) => {
    const http = axios.create();
    const unprotect = protectAxios(http, registry, rules);
    return { family: 'axios', get: (url) => http.get(url), teardown: unprotect };
  },
};

describe.each(Object.keys(clients))('%s: user callbacks that throw', (integration) => {
  let api: Downstream;
  let client: Client | undefined;

  beforeEach(async () => {
    api = await startDownstream();
  });
  afterEach(async () => {
    client?.teardown();
    client = undefined;
    await api.close();
  });

  function setup(rules: Rules, breakers: Record<string, BreakerOptions> = {}) {
    const registry = new BreakerRegistry({ clock: new ManualClock(), breakers });
    client = clients[integration](registry, rules);
    return { registry, client };
  }

  describe('name', () => {
    it('that throws: nothing is sent, nothing is recorded, the caller gets BreakerCallbackError', async () => {
      const { registry, client } = setup({ name: throwing });
      const error = expectCallbackError(
        await rejection(client.get(`${api.origin}/x`)),
        client.family,
        'name',
      );
      expect(error.cause).toBe(broken);
      expect(String(error.original)).toBe(`${api.origin}/x`);
      expect(error.message).toBe(`circuit breaker "${client.family}": name threw: callback bug`);
      expect(api.requests).toBe(0);
      expect(registry.names()).toEqual([]);
      expect(registry.keys(client.family)).toEqual([]);
    });

    it.each([
      ['a number', 42, '42'],
      ['an empty string', '', '""'],
      ['null', null, 'null'],
    ])(
      'that returns %s: nothing is sent, BreakerCallbackError names the value',
      async (_what, value, shown) => {
        const { registry, client } = setup({ name: () => value as never });
        const error = expectCallbackError(
          await rejection(client.get(`${api.origin}/x`)),
          client.family,
          'name',
        );
        expect(error.cause).toBeInstanceOf(TypeError);
        expect((error.cause as Error).message).toBe(
          `${integration}: the name rule returned ${shown} for ${api.origin}/x; it must return a non-empty string or undefined`,
        );
        expect(api.requests).toBe(0);
        expect(registry.names()).toEqual([]);
      },
    );

    it('that returns undefined: the request goes through the default breaker of its origin', async () => {
      const { registry, client } = setup({
        name: (url) => (url.pathname === '/named' ? 'named' : undefined),
      });
      await client.get(`${api.origin}/named`);
      await client.get(`${api.origin}/x`);
      expect(api.requests).toBe(2);
      expect(registry.get('named').snapshot()).toMatchObject({ successfulCalls: 1 });
      expect(registry.keys(client.family)).toEqual([api.origin]);
      expect(registry.get(client.family, api.origin).snapshot()).toMatchObject({ successfulCalls: 1 });
    });
  });

  describe('isFailureStatus', () => {
    it('that throws: one failure recorded; BreakerCallbackError with the response as original; no retry, no fallback', async () => {
      api.respond(status(200, 'fine'));
      const { registry, client } = setup(
        { isFailureStatus: throwing },
        { [integration === 'breakerFetch' ? 'fetch' : 'axios']: masking },
      );
      const error = expectCallbackError(
        await rejection(client.get(`${api.origin}/x`)),
        `${client.family}`,
        'isFailureStatus',
      );
      expect(error.cause).toBe(broken);
      if (integration === 'breakerFetch') {
        expect(error.original).toBeInstanceOf(Response);
        expect((error.original as Response).status).toBe(200);
      } else {
        expect((error.original as AxiosResponse).status).toBe(200);
        expect((error.original as AxiosResponse).data).toBe('fine');
      }
      expect(api.requests).toBe(1);
      expect(registry.get(client.family, api.origin).snapshot()).toMatchObject({
        totalCalls: 1,
        failedCalls: 1,
        successfulCalls: 0,
        fallbacks: 0,
        retries: 0,
      });
    });

    it('that throws only for some statuses leaves the others judged as usual', async () => {
      api.sequence(status(503), status(200));
      const { registry, client } = setup({
        isFailureStatus: (s) => {
          if (s === 200) throw broken;
          return s >= 500;
        },
      });
      await client.get(`${api.origin}/x`).catch(() => undefined); // 503: a failure (axios rejects it)
      expectCallbackError(await rejection(client.get(`${api.origin}/x`)), client.family, 'isFailureStatus');
      expect(registry.get(client.family, api.origin).snapshot()).toMatchObject({
        failedCalls: 2,
        totalCalls: 2,
      });
    });
  });
});
