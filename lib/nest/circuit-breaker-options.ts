import type { CanActivate, Type } from '@nestjs/common';
import { BreakerConfigError } from '../core/errors';
import { describeValue, suggest } from '../core/options';
import type { BreakerRegistryOptions } from '../core/registry';
import { isStateStore } from '../core/store';
import { DEFAULT_HTTP_PATH } from './circuit-breaker.constants';
import { resolveOpenErrorMapping } from './open-error-mapping';
import type {
  CircuitBreakerHttpOptions,
  CircuitBreakerModuleOptions,
} from './interfaces/circuit-breaker-module-options.interface';

/** Every top-level option the module knows; anything else is reported as a likely typo. */
export const MODULE_OPTION_KEYS: string[] = [
  'isGlobal',
  'defaults',
  'breakers',
  'strict',
  'http',
  'mapOpenToHttp',
  'mapOpenErrors',
  'store',
  'clock',
  'random',
  'metrics',
  'events',
  'otel',
];

/** The metrics controller's mount after defaults and validation. */
export interface ResolvedHttpOptions {
  /** Without leading or trailing slashes. */
  path: string;
  guards: (Type<CanActivate> | CanActivate)[];
  control: boolean;
  exposeErrorMessages: boolean;
  /** `allowUnguarded`: no production warning about unguarded routes. */
  allowUnguarded: boolean;
}

const PREFIX = 'CircuitBreakerModule';

/** Throws the `BreakerConfigError` of a bad module option (also used for `metrics` and `events`). */
function fail(message: string): never {
  throw new BreakerConfigError(`${PREFIX}: ${message}`);
}

export { fail as failModuleOption };

function checkBoolean(path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean')
    fail(`${path} must be true or false, got ${describeValue(value)}`);
}

/** Rejects keys outside `known`, suggesting the likely one; `prefix` is the keys' path (`''`, `'http.'`). */
function checkKnownKeys(options: object, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = suggest(key, known);
      fail(`unknown option "${prefix}${key}"${hint ? ` (did you mean "${prefix}${hint}"?)` : ''}`);
    }
  }
}

/**
 * Checks the module-level options (keys, flags, http, store). Breaker options (`defaults`, `breakers`)
 * and `clock` are validated by the registry, with messages naming the breaker.
 */
export function validateModuleOptions(options: unknown): CircuitBreakerModuleOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    fail(`options must be an object, got ${describeValue(options)}`);
  const o = options as Record<string, unknown>;
  checkKnownKeys(o, MODULE_OPTION_KEYS, '');
  checkBoolean('isGlobal', o.isGlobal);
  checkBoolean('strict', o.strict);
  resolveOpenErrorMapping(o);
  resolveHttpOptions(o.http);
  checkStore(o.store);
  return o as CircuitBreakerModuleOptions;
}

function checkStore(store: unknown): void {
  if (store === undefined || isStateStore(store)) return;
  fail(
    `store must be a CircuitStateStore (an object with attach() and close(), e.g. new RedisStateStore() ` +
      `from nestjs-breaker/redis), got ${describeValue(store)}`,
  );
}

const HTTP_OPTION_KEYS = [
  'path',
  'guards',
  'control',
  'allowUnguardedControl',
  'exposeErrorMessages',
  'allowUnguarded',
];

const PATH_PATTERN = /^[A-Za-z0-9._~!$&'()+,;=@%-]+(\/[A-Za-z0-9._~!$&'()+,;=@%-]+)*$/;

/** Validates `http` and fills in the defaults; `false` when nothing is mounted. */
export function resolveHttpOptions(http: unknown): ResolvedHttpOptions | false {
  if (http === false) return false;
  if (http === undefined)
    return {
      path: DEFAULT_HTTP_PATH,
      guards: [],
      control: false,
      exposeErrorMessages: false,
      allowUnguarded: false,
    };
  if (http === null || typeof http !== 'object' || Array.isArray(http))
    fail(`http must be false or an object { ${HTTP_OPTION_KEYS.join('?, ')}? }, got ${describeValue(http)}`);
  const h = http as CircuitBreakerHttpOptions & Record<string, unknown>;
  checkKnownKeys(h, HTTP_OPTION_KEYS, 'http.');
  let path = DEFAULT_HTTP_PATH;
  if (h.path !== undefined) {
    if (typeof h.path !== 'string') fail(`http.path must be a string, got ${describeValue(h.path)}`);
    path = h.path.replace(/^\/+|\/+$/g, '');
    // Route syntax (`:param`, wildcards, query) in the mount would silently change which URLs match.
    if (!PATH_PATTERN.test(path))
      fail(
        `http.path must be a non-empty URL path of plain segments (letters, digits, - _ . ~), got ${describeValue(h.path)}`,
      );
  }
  const guards = h.guards ?? [];
  if (!Array.isArray(guards))
    fail(`http.guards must be an array of guard classes or instances, got ${describeValue(guards)}`);
  guards.forEach((guard: unknown, i) => {
    const isClass = typeof guard === 'function';
    const isInstance =
      typeof guard === 'object' &&
      guard !== null &&
      typeof (guard as Partial<CanActivate>).canActivate === 'function';
    if (!isClass && !isInstance)
      fail(
        `http.guards[${i}] must be a guard class or an object with canActivate(), got ${describeValue(guard)}`,
      );
  });
  for (const flag of ['control', 'allowUnguardedControl', 'exposeErrorMessages', 'allowUnguarded'] as const)
    checkBoolean(`http.${flag}`, h[flag]);
  if (h.control === true && guards.length === 0 && h.allowUnguardedControl !== true)
    fail(
      'http.control: true mounts POST /:name/force-open, /disable and /reset, which let any client switch a ' +
        'dependency off; pass http.guards (e.g. guards: [AdminGuard]), or set http.allowUnguardedControl: true ' +
        'when the routes are reachable only from a trusted network or a global guard protects them',
    );
  return {
    path,
    guards: [...guards],
    control: h.control === true,
    exposeErrorMessages: h.exposeErrorMessages === true,
    allowUnguarded: h.allowUnguarded === true,
  };
}

/** The part of the module options the core registry takes. */
export function registryOptionsOf(options: CircuitBreakerModuleOptions): BreakerRegistryOptions {
  const out: BreakerRegistryOptions = {};
  if (options.defaults !== undefined) out.defaults = options.defaults;
  if (options.breakers !== undefined) out.breakers = options.breakers;
  if (options.clock !== undefined) out.clock = options.clock;
  if (options.random !== undefined) out.random = options.random;
  if (options.store !== undefined) out.store = options.store;
  return out;
}

/** Names configured in `breakers` (own keys only: `__proto__` and friends are ordinary names here). */
export function configuredNames(options: CircuitBreakerModuleOptions): Set<string> {
  const breakers = options.breakers;
  return new Set(breakers !== null && typeof breakers === 'object' ? Object.keys(breakers) : []);
}
