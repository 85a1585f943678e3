import type { Breaker } from '../../core/breaker';
import { BreakerCallbackError, BreakerConfigError } from '../../core/errors';
import { describeValue } from '../../core/options';
import type { BreakerRegistry } from '../../core/registry';
import { retryAfterHint } from './retry-after';

/** How long a `Retry-After` may lengthen OPEN unless `retryAfter.maxMs` says otherwise: 5 minutes. */
export const DEFAULT_RETRY_AFTER_MAX_MS = 300_000;

/** The options every HTTP integration shares. `R` is what the name rule receives besides the URL. */
export interface HttpBreakerRuleOptions<R extends unknown[] = []> {
  /**
   * The breaker a request goes through, by name (each name its own breaker, unbounded). Default (and when
   * it returns undefined): the keyed breaker of the URL's origin (e.g. `https://api.example.com`) in the
   * family `family`. If it throws or returns anything else, the request is not sent and rejects with
   * `BreakerCallbackError` (callback `name`).
   */
  name?: (url: URL, ...request: R) => string | undefined;
  /**
   * The family whose keys the per-origin breakers are (default `'fetch'` for `breakerFetch`, `'axios'`
   * for axios): configured by `breakers[family]`, bounded by its `keys` options; `breakers[origin]`, when
   * present, overrides the family's options for that origin.
   */
  family?: string;
  /**
   * Statuses that count as failures (the response still reaches the caller). Default: `status >= 500`.
   * If it throws, the call is one failure and rejects with `BreakerCallbackError` (callback
   * `isFailureStatus`, `original`: the response), never retried nor replaced by a fallback.
   */
  isFailureStatus?: (status: number) => boolean;
  /**
   * A `Retry-After` on a failed 503 or 429 that opens the circuit makes OPEN last
   * `max(open duration, Retry-After)`, the header capped at `maxMs` (default 5 minutes). `false`: ignore it.
   */
  retryAfter?: false | { maxMs?: number };
}

/** Validated rules, ready for the request path. */
export interface HttpRules<R extends unknown[]> {
  /**
   * The breaker of a request: by the `name` rule when given (undefined: the default), else the origin's
   * key in the family. A `name` rule that throws or returns neither a non-empty string nor undefined
   * throws `BreakerCallbackError` (callback `name`): nothing is sent and nothing is recorded.
   */
  breakerFor(registry: BreakerRegistry, url: URL, ...request: R): Breaker;
  /**
   * Whether `response` (with `status`) is a failure of `breaker`. An `isFailureStatus` that throws throws
   * `BreakerCallbackError` (callback `isFailureStatus`, original: the response): the breaker records it as
   * one failure, never retries it, and no fallback masks it.
   */
  isFailureStatus(breakerName: string, status: number, response: unknown): boolean;
  /** The OPEN-duration hint of a failed response, or undefined. */
  hintFor(status: number, retryAfterHeader: string | null | undefined, nowMs: number): number | undefined;
}

const KNOWN = ['name', 'family', 'isFailureStatus', 'retryAfter'];

function defaultIsFailureStatus(status: number): boolean {
  return status >= 500;
}

/**
 * Checks the shared options and builds the rules. `owner` names the integration in error messages;
 * `extraKeys` are the owner's own option names (so a typo among them is still reported).
 */
export function resolveHttpRules<R extends unknown[]>(
  owner: string,
  options: HttpBreakerRuleOptions<R> | undefined,
  extraKeys: readonly string[] = [],
  defaultFamily = 'fetch',
): HttpRules<R> {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new BreakerConfigError(`${owner}: options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key) && !extraKeys.includes(key)) {
      throw new BreakerConfigError(
        `${owner}: unknown option "${key}" (known: ${[...KNOWN, ...extraKeys].join(', ')})`,
      );
    }
  }
  const name = options.name;
  if (name !== undefined && typeof name !== 'function') {
    throw new BreakerConfigError(
      `${owner}: name must be a function (url) => string, got ${describeValue(name)}`,
    );
  }
  const isFailureStatus = options.isFailureStatus ?? defaultIsFailureStatus;
  if (typeof isFailureStatus !== 'function') {
    throw new BreakerConfigError(
      `${owner}: isFailureStatus must be a function (status) => boolean, got ${describeValue(isFailureStatus)}`,
    );
  }
  const family = options.family ?? defaultFamily;
  if (typeof family !== 'string' || family.length === 0) {
    throw new BreakerConfigError(
      `${owner}: family must be a non-empty string (a breaker name), got ${describeValue(family)}`,
    );
  }
  const maxMs = retryAfterCap(owner, options.retryAfter);
  return {
    breakerFor(registry, url, ...request) {
      let breakerName: unknown;
      if (name !== undefined) {
        // The family names the error: no breaker is chosen yet, and the request is neither sent nor recorded.
        try {
          breakerName = name(url, ...request);
        } catch (thrown) {
          throw new BreakerCallbackError(family, 'name', thrown, url);
        }
        if (breakerName !== undefined && (typeof breakerName !== 'string' || breakerName.length === 0)) {
          const problem = new TypeError(
            `${owner}: the name rule returned ${describeValue(breakerName)} for ${url.href}; it must return a non-empty string or undefined`,
          );
          throw new BreakerCallbackError(family, 'name', problem, url);
        }
      }
      if (typeof breakerName === 'string') return registry.get(breakerName);
      return registry.keyed(family, url.origin, (origin) => registry.configuredOptions(origin));
    },
    isFailureStatus(breakerName, status, response) {
      try {
        return isFailureStatus(status) === true;
      } catch (thrown) {
        throw new BreakerCallbackError(breakerName, 'isFailureStatus', thrown, response);
      }
    },
    hintFor: (status, header, nowMs) =>
      maxMs === undefined ? undefined : retryAfterHint(status, header, nowMs, maxMs),
  };
}

function retryAfterCap(owner: string, option: HttpBreakerRuleOptions['retryAfter']): number | undefined {
  if (option === false) return undefined;
  if (option === undefined) return DEFAULT_RETRY_AFTER_MAX_MS;
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new BreakerConfigError(
      `${owner}: retryAfter must be false or { maxMs?: number }, got ${describeValue(option)}`,
    );
  }
  const maxMs = option.maxMs ?? DEFAULT_RETRY_AFTER_MAX_MS;
  if (typeof maxMs !== 'number' || !Number.isFinite(maxMs) || maxMs < 0) {
    throw new BreakerConfigError(
      `${owner}: retryAfter.maxMs must be a finite number of ms >= 0, got ${describeValue(maxMs)}`,
    );
  }
  return maxMs;
}
