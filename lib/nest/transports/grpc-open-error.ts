import type { Metadata as MetadataClass } from '@grpc/grpc-js';
import { CircuitState } from '../../core/circuit-state';
import type { CircuitOpenError } from '../../core/errors';
import { isThrottled } from '../circuit-open-response';
import { loadOptionalPackage } from './optional-package';

/** gRPC's status code UNAVAILABLE: "the service is currently unavailable", the code clients retry. */
export const GRPC_UNAVAILABLE = 14;

/** Trailing metadata key of gRFC A6: how long the client should wait before its next retry attempt. */
export const GRPC_RETRY_PUSHBACK = 'grpc-retry-pushback-ms';

/** Trailing metadata naming the breaker and its state (the gRPC counterpart of the HTTP state header). */
export const GRPC_BREAKER_NAME = 'x-circuit-breaker';
export const GRPC_BREAKER_STATE = 'x-circuit-breaker-state';

/** True when the arguments of a handler are gRPC's (`data, metadata, call`): its context is a grpc-js `Metadata`. */
export function isGrpcContext(context: unknown): boolean {
  if (context === null || typeof context !== 'object') return false;
  const candidate = context as { getMap?: unknown; getOptions?: unknown; internalRepr?: unknown };
  return (
    typeof candidate.getMap === 'function' &&
    typeof candidate.getOptions === 'function' &&
    candidate.internalRepr instanceof Map
  );
}

/**
 * The status object Nest's gRPC server hands to grpc-js: `UNAVAILABLE` with `grpc-retry-pushback-ms` (the
 * wait in ms, as HTTP's `Retry-After`: at least 1000 while the half-open probes are taken; none when the
 * circuit is forced open or the call was throttled, so the client's own retry policy decides).
 */
export function grpcOpenStatus(error: CircuitOpenError): {
  code: number;
  message: string;
  metadata: unknown;
} {
  const { Metadata } = loadOptionalPackage<{ Metadata: typeof MetadataClass }>(
    '@grpc/grpc-js',
    'mapping an open circuit in a gRPC handler',
  );
  const metadata = new Metadata();
  if (error.state !== CircuitState.FORCED_OPEN && !isThrottled(error))
    metadata.set(GRPC_RETRY_PUSHBACK, String(error.retryAfterMs > 0 ? error.retryAfterMs : 1000));
  metadata.set(GRPC_BREAKER_NAME, error.breakerName);
  metadata.set(GRPC_BREAKER_STATE, error.state);
  return { code: GRPC_UNAVAILABLE, message: error.message, metadata };
}
