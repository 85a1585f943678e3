// `nestjs-breaker/redis`: fleet-wide breaker state on Redis (ioredis is an optional peer, needed here only).
export { RedisStateStore } from './redis-state-store';
export type { RedisStateStoreOptions, StoreLogger } from './redis-store-options';
export { encodeBreakerName } from './breaker-keys';
