import { BreakerConfigError } from '../core/errors';
import { describeValue, suggest } from '../core/options';

/** The transports whose errors the module maps, one switch each (see `mapOpenErrors`). */
export const TRANSPORT_KINDS = ['http', 'graphql', 'rpc', 'ws'] as const;

/** A transport the module maps breaker errors for: Nest's context types (gRPC is `rpc`). */
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

/** Which transports map breaker errors, after `mapOpenErrors` and its `http` alias `mapOpenToHttp` are resolved. */
export type OpenErrorMapping = Record<TransportKind, boolean>;

/** The value of the `mapOpenErrors` module option. */
export type MapOpenErrorsOption = boolean | Partial<Record<TransportKind, boolean>>;

function fail(message: string): never {
  throw new BreakerConfigError(`CircuitBreakerModule: ${message}`);
}

/**
 * Resolves `mapOpenErrors` (default: every transport on) and `mapOpenToHttp` (the alias of its `http`
 * switch). Both may be given only when they agree on HTTP: a contradiction is reported, never settled
 * silently by a precedence rule the reader would have to look up.
 */
export function resolveOpenErrorMapping(options: {
  mapOpenErrors?: unknown;
  mapOpenToHttp?: unknown;
}): OpenErrorMapping {
  const { mapOpenErrors, mapOpenToHttp } = options;
  if (mapOpenToHttp !== undefined && typeof mapOpenToHttp !== 'boolean')
    fail(`mapOpenToHttp must be true or false, got ${describeValue(mapOpenToHttp)}`);
  const mapping: OpenErrorMapping = { http: true, graphql: true, rpc: true, ws: true };
  let httpSetBy: string | undefined;
  if (typeof mapOpenErrors === 'boolean') {
    for (const kind of TRANSPORT_KINDS) mapping[kind] = mapOpenErrors;
    httpSetBy = 'mapOpenErrors';
  } else if (mapOpenErrors !== undefined) {
    if (mapOpenErrors === null || typeof mapOpenErrors !== 'object' || Array.isArray(mapOpenErrors))
      fail(
        `mapOpenErrors must be true, false or an object { http?, graphql?, rpc?, ws? } of booleans, ` +
          `got ${describeValue(mapOpenErrors)}`,
      );
    for (const [kind, value] of Object.entries(mapOpenErrors)) {
      if (!(TRANSPORT_KINDS as readonly string[]).includes(kind)) {
        const hint = suggest(kind, TRANSPORT_KINDS);
        fail(
          `unknown option "mapOpenErrors.${kind}"${hint ? ` (did you mean "mapOpenErrors.${hint}"?)` : ''}; ` +
            `the transports are ${TRANSPORT_KINDS.join(', ')}`,
        );
      }
      if (value === undefined) continue;
      if (typeof value !== 'boolean')
        fail(`mapOpenErrors.${kind} must be true or false, got ${describeValue(value)}`);
      mapping[kind as TransportKind] = value;
      if (kind === 'http') httpSetBy = 'mapOpenErrors.http';
    }
  }
  if (typeof mapOpenToHttp === 'boolean') {
    if (httpSetBy !== undefined && mapping.http !== mapOpenToHttp)
      fail(
        `mapOpenToHttp is ${mapOpenToHttp} but ${httpSetBy} maps HTTP ${mapping.http ? 'on' : 'off'}; ` +
          `mapOpenToHttp is the alias of mapOpenErrors.http: give one of them`,
      );
    mapping.http = mapOpenToHttp;
  }
  return mapping;
}
