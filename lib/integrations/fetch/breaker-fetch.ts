import type { Breaker } from '../../core/breaker';
import { breakerSignal } from '../../core/call-signal';
import { BreakerConfigError, ResultFailureError } from '../../core/errors';
import { describeValue } from '../../core/options';
import type { BreakerRegistry } from '../../core/registry';
import { resolveHttpRules, type HttpBreakerRuleOptions } from './http-rules';
import { eitherSignal } from './signals';

/** The shape of the global `fetch`. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface BreakerFetchOptions extends HttpBreakerRuleOptions {
  /** The fetch that sends. Default: `globalThis.fetch`, looked up on each call. */
  fetch?: FetchFunction;
}

/**
 * A fetch-compatible function that sends each request through the breaker of its origin: a key of the
 * family `'fetch'` (or `family`), so the origins a process talks to stay bounded by `keys.max`. The
 * family is configured by `breakers.fetch`; `breakers[origin]` overrides it for one origin. A `name`
 * rule picks named breakers instead (`registry.get(name)`). Network errors,
 * `callTimeoutMs` and failure statuses (default `>= 500`) are failures; a failure status still resolves
 * with its Response. 4xx responses count as successes: the downstream answered. An open circuit rejects
 * with `CircuitOpenError` and sends nothing.
 *
 * @example
 * const registry = new BreakerRegistry({
 *   defaults: { failureThreshold: 5, halfOpenAfterMs: 30_000, callTimeoutMs: 2_000 },
 *   breakers: { fetch: { keys: { max: 200 } }, 'https://payments.example.com': { failureThreshold: 2 } },
 * });
 * const fetchSafely = breakerFetch(registry);
 * const res = await fetchSafely('https://payments.example.com/charges', { method: 'POST', body });
 */
export function breakerFetch(registry: BreakerRegistry, options: BreakerFetchOptions = {}): FetchFunction {
  if (registry === null || typeof registry !== 'object' || typeof registry.get !== 'function') {
    throw new BreakerConfigError(
      `breakerFetch: registry must be a BreakerRegistry (or the Nest CircuitBreakerRegistry), got ${describeValue(registry)}`,
    );
  }
  const rules = resolveHttpRules('breakerFetch', options, ['fetch']);
  const custom = options?.fetch;
  if (custom !== undefined && typeof custom !== 'function') {
    throw new BreakerConfigError(`breakerFetch: fetch must be a function, got ${describeValue(custom)}`);
  }

  return function fetchThroughBreaker(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const send = custom ?? globalThis.fetch;
    const callerSignal = init?.signal ?? (isRequest(input) ? input.signal : undefined) ?? undefined;
    // Aborted before it started: fetch itself would reject at once, and the downstream is not to blame.
    if (callerSignal?.aborted) return Promise.reject(callerSignal.reason);
    let breaker: Breaker;
    try {
      breaker = rules.breakerFor(registry, requestUrl(input));
    } catch (error) {
      return Promise.reject(error);
    }
    // With retry, a failed response is replaced by the next attempt's: its body is never read.
    let failed: Response | undefined;

    const attempt = (
      target: string | URL | Request,
      options: RequestInit | undefined,
      _signal: AbortSignal | undefined,
    ): Promise<Response> => {
      // Read synchronously, before anything async: the signal the breaker aborts on callTimeoutMs.
      const signal = eitherSignal(breakerSignal(), callerSignal);
      if (failed !== undefined) {
        discard(failed);
        failed = undefined;
      }
      // A Request's body can be read once; a clone per attempt keeps the original sendable for a retry.
      const request = isRequest(target) && target.body !== null ? target.clone() : target;
      const sent = signal === callerSignal ? send(request, options) : send(request, { ...options, signal });
      return sent.then((response) => {
        // Held first: a throwing isFailureStatus rejects the call, and the unread body is then released.
        failed = response;
        if (!rules.isFailureStatus(breaker.name, response.status, response)) {
          failed = undefined;
          return response;
        }
        const hint = rules.hintFor(
          response.status,
          response.headers.get('retry-after'),
          registry.clock.now(),
        );
        throw new ResultFailureError(breaker.name, response, hint);
      });
    };

    // The caller's signal goes last: the breaker then also stops retry waits and bulkhead queues on it.
    return breaker.executePromise(attempt, input, init, callerSignal).then(
      (response) => {
        // A fallback answered instead of the failed response.
        if (failed !== undefined && failed !== response) discard(failed);
        return response;
      },
      (error: unknown) => {
        // Without retry or fallback the breaker passes the verdict through: the caller gets the Response.
        if (error instanceof ResultFailureError && failed !== undefined && error.result === failed) {
          return failed;
        }
        if (failed !== undefined) discard(failed);
        throw error;
      },
    );
  };
}

function isRequest(input: unknown): input is Request {
  return (
    typeof input === 'object' &&
    input !== null &&
    !(input instanceof URL) &&
    typeof (input as Request).url === 'string' &&
    typeof (input as Request).method === 'string'
  );
}

function requestUrl(input: string | URL | Request): URL {
  if (input instanceof URL) return input;
  const href = isRequest(input) ? input.url : String(input);
  try {
    return new URL(href);
  } catch (cause) {
    throw new TypeError(`breakerFetch: cannot send to ${describeValue(href)}: not an absolute URL`, {
      cause,
    });
  }
}

/** Releases the connection a response holds without reading its body. */
function discard(response: Response): void {
  if (response.body !== null && !response.bodyUsed) response.body.cancel().catch(() => undefined);
}
