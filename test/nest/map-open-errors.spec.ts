// The mapOpenErrors option and its HTTP alias mapOpenToHttp: defaults, per-transport switches, clear errors.
import { BreakerConfigError, CircuitBreakerModule } from '../../lib';
import { resolveOpenErrorMapping } from '../../lib/nest/open-error-mapping';

describe('mapOpenErrors', () => {
  it('maps every transport by default', () => {
    expect(resolveOpenErrorMapping({})).toEqual({ http: true, graphql: true, rpc: true, ws: true });
  });

  it('switches every transport with a boolean', () => {
    expect(resolveOpenErrorMapping({ mapOpenErrors: false })).toEqual({
      http: false,
      graphql: false,
      rpc: false,
      ws: false,
    });
  });

  it('switches one transport with an object, leaving the others on', () => {
    expect(resolveOpenErrorMapping({ mapOpenErrors: { ws: false, rpc: false } })).toEqual({
      http: true,
      graphql: true,
      rpc: false,
      ws: false,
    });
  });

  it('takes mapOpenToHttp as the alias of mapOpenErrors.http', () => {
    expect(resolveOpenErrorMapping({ mapOpenToHttp: false })).toMatchObject({ http: false, graphql: true });
    expect(resolveOpenErrorMapping({ mapOpenToHttp: false, mapOpenErrors: { graphql: false } })).toEqual({
      http: false,
      graphql: false,
      rpc: true,
      ws: true,
    });
    expect(resolveOpenErrorMapping({ mapOpenToHttp: true, mapOpenErrors: { http: true } }).http).toBe(true);
  });

  it.each([
    [
      { mapOpenToHttp: true, mapOpenErrors: false },
      'CircuitBreakerModule: mapOpenToHttp is true but mapOpenErrors maps HTTP off; mapOpenToHttp is the alias of mapOpenErrors.http: give one of them',
    ],
    [
      { mapOpenToHttp: false, mapOpenErrors: { http: true } },
      'CircuitBreakerModule: mapOpenToHttp is false but mapOpenErrors.http maps HTTP on; mapOpenToHttp is the alias of mapOpenErrors.http: give one of them',
    ],
    [
      { mapOpenErrors: 'all' },
      'mapOpenErrors must be true, false or an object { http?, graphql?, rpc?, ws? } of booleans, got "all"',
    ],
    [{ mapOpenErrors: ['http'] }, 'mapOpenErrors must be true, false or an object'],
    [
      { mapOpenErrors: { grpc: false } },
      'unknown option "mapOpenErrors.grpc" (did you mean "mapOpenErrors.rpc"?); the transports are http, graphql, rpc, ws',
    ],
    [{ mapOpenErrors: { ws: 'no' } }, 'mapOpenErrors.ws must be true or false, got "no"'],
    [{ mapOpenToHttp: 0 }, 'mapOpenToHttp must be true or false, got 0'],
  ])('rejects %j with a clear error', (options, message) => {
    expect(() => resolveOpenErrorMapping(options)).toThrow(BreakerConfigError);
    expect(() => resolveOpenErrorMapping(options)).toThrow(message);
    // forRoot reports it at once, before any application is built.
    expect(() => CircuitBreakerModule.forRoot(options as never)).toThrow(message);
  });
});
