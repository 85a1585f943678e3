// `nestjs-breaker/testing`: what tests of apps and of other stores use (no test runner is imported here).
export { ManualClock } from '../core/manual-clock';
export { runStateStoreContract, type ContractRunner, type StoreFactory } from './state-store-contract';
