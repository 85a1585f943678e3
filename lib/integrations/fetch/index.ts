// Entry point `nestjs-breaker/fetch`: no Nest import anywhere below it.
export { breakerFetch, type BreakerFetchOptions, type FetchFunction } from './breaker-fetch';
export { DEFAULT_RETRY_AFTER_MAX_MS, type HttpBreakerRuleOptions } from './http-rules';
export { parseRetryAfter } from './retry-after';
