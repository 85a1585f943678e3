import axios, {
  type AxiosAdapter,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import type { Breaker } from '../../core/breaker';
import { breakerSignal } from '../../core/call-signal';
import { BreakerConfigError, ResultFailureError } from '../../core/errors';
import { describeValue } from '../../core/options';
import type { BreakerRegistry } from '../../core/registry';
import { resolveHttpRules, type HttpBreakerRuleOptions, type HttpRules } from '../fetch/http-rules';
import { eitherSignal } from '../fetch/signals';
import { axiosRequestUrl } from './axios-request-url';

/** Options of `protectAxios`: the name rule also receives the request's config. */
export type ProtectAxiosOptions = HttpBreakerRuleOptions<[config: InternalAxiosRequestConfig]>;

/** Undoes `protectAxios`: requests made afterwards go straight to the adapter again. */
export type Unprotect = () => void;

/** Marks our adapter wrappers, so a config that passes the interceptor twice (a re-sent config) is wrapped once. */
const ORIGINAL = Symbol('nestjs-breaker original adapter');
type GuardedAdapter = AxiosAdapter & { [ORIGINAL]: InternalAxiosRequestConfig['adapter'] };

const protectedInstances = new WeakSet<AxiosInstance>();

/**
 * Sends every request of an axios instance through the breaker of its target origin: a key of the family
 * `'axios'` (or `family`), bounded by that family's `keys.max`; `breakers[origin]` overrides the family's
 * options for one origin, and a `name` rule picks named breakers instead. The breaker wraps the adapter, so nothing is sent while the circuit is open: the request rejects
 * with `CircuitOpenError`. Network errors, axios timeouts, `callTimeoutMs` and failure statuses (default
 * `>= 500`) are failures; 4xx are not (the downstream answered) and still reject as axios would.
 *
 * @example
 * const registry = new BreakerRegistry({ breakers: { 'https://api.example.com': { failureThreshold: 3 } } });
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * const unprotect = protectAxios(api, registry);
 * await api.get('/items'); // through registry.get('axios', 'https://api.example.com')
 */
export function protectAxios(
  instance: AxiosInstance,
  registry: BreakerRegistry,
  options: ProtectAxiosOptions = {},
): Unprotect {
  if (instance === null || typeof instance !== 'function' || typeof instance.interceptors !== 'object') {
    throw new BreakerConfigError(
      `protectAxios: instance must be an axios instance (axios.create() or HttpService.axiosRef), got ${describeValue(instance)}`,
    );
  }
  if (registry === null || typeof registry !== 'object' || typeof registry.get !== 'function') {
    throw new BreakerConfigError(
      `protectAxios: registry must be a BreakerRegistry (or the Nest CircuitBreakerRegistry), got ${describeValue(registry)}`,
    );
  }
  if (protectedInstances.has(instance)) {
    throw new BreakerConfigError(
      'protectAxios: this axios instance is already protected (call the returned unprotect() before protecting it again)',
    );
  }
  const rules = resolveHttpRules<[InternalAxiosRequestConfig]>('protectAxios', options, [], 'axios');
  const guard = (original: InternalAxiosRequestConfig['adapter']): GuardedAdapter => {
    const guarded = ((config: InternalAxiosRequestConfig) =>
      sendThroughBreaker(registry, rules, original, config)) as GuardedAdapter;
    guarded[ORIGINAL] = original;
    return guarded;
  };
  // Wrapping per request (not `defaults.adapter`) also covers a request that names its own adapter.
  const id = instance.interceptors.request.use(
    (config) => {
      const current = config.adapter as GuardedAdapter | InternalAxiosRequestConfig['adapter'];
      const original =
        typeof current === 'function' && ORIGINAL in current
          ? (current as GuardedAdapter)[ORIGINAL]
          : current;
      config.adapter = guard(original);
      return config;
    },
    undefined,
    { synchronous: true },
  );
  protectedInstances.add(instance);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    instance.interceptors.request.eject(id);
    protectedInstances.delete(instance);
  };
}

function sendThroughBreaker(
  registry: BreakerRegistry,
  rules: HttpRules<[InternalAxiosRequestConfig]>,
  original: InternalAxiosRequestConfig['adapter'],
  config: InternalAxiosRequestConfig,
): Promise<AxiosResponse> {
  let adapter: AxiosAdapter;
  let breaker: Breaker;
  try {
    adapter = axios.getAdapter(original ?? axios.defaults.adapter, config);
    breaker = rules.breakerFor(registry, axiosRequestUrl(config), config);
  } catch (error) {
    return Promise.reject(error);
  }
  const callerSignal = config.signal instanceof AbortSignal ? config.signal : undefined;
  // With retry, a failed response is replaced by the next attempt's.
  let failed: AxiosResponse | undefined;

  const attempt = (_config: InternalAxiosRequestConfig, _signal: AbortSignal | undefined) => {
    // Read synchronously, before anything async: the signal the breaker aborts on callTimeoutMs.
    const signal = eitherSignal(breakerSignal(), callerSignal);
    if (failed !== undefined) {
      discard(failed);
      failed = undefined;
    }
    // Every status resolves here: the breaker judges it by isFailureStatus, then axios's own rule applies.
    const inner: InternalAxiosRequestConfig = { ...config, validateStatus: () => true };
    if (signal !== undefined) inner.signal = signal;
    return adapter(inner).then((response) => {
      response.config = config;
      // Held first: a throwing isFailureStatus rejects the call, and the unread body is then released.
      failed = response;
      if (!rules.isFailureStatus(breaker.name, response.status, response)) {
        failed = undefined;
        return response;
      }
      const retryAfter = response.headers?.['retry-after'] as unknown;
      const hint = rules.hintFor(
        response.status,
        typeof retryAfter === 'string' ? retryAfter : undefined,
        registry.clock.now(),
      );
      throw new ResultFailureError(breaker.name, response, hint);
    });
  };

  // The caller's signal goes last: the breaker then also stops retry waits and bulkhead queues on it.
  return breaker.executePromise(attempt, config, callerSignal).then(
    (response) => {
      if (failed !== undefined && failed !== response) discard(failed);
      return settleAsAxios(response, config);
    },
    (error: unknown) => {
      if (error instanceof ResultFailureError && failed !== undefined && error.result === failed) {
        return settleAsAxios(failed, config);
      }
      if (failed !== undefined) discard(failed);
      throw error;
    },
  );
}

/** What axios does with a response after its adapter: resolve, or reject as its `validateStatus` says. */
function settleAsAxios(response: AxiosResponse, config: InternalAxiosRequestConfig): AxiosResponse {
  const validate = config.validateStatus;
  if (!response.status || !validate || validate(response.status)) return response;
  throw new axios.AxiosError(
    `Request failed with status code ${response.status}`,
    response.status >= 400 && response.status < 500
      ? axios.AxiosError.ERR_BAD_REQUEST
      : axios.AxiosError.ERR_BAD_RESPONSE,
    config,
    response.request,
    response,
  );
}

/** Releases a failed response that nobody will read (a stream body holds its connection). */
function discard(response: AxiosResponse): void {
  const data = response.data as { destroy?: () => void } | null | undefined;
  if (data !== null && typeof data === 'object' && typeof data.destroy === 'function') data.destroy();
}
