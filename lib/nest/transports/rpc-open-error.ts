import type * as Microservices from '@nestjs/microservices';
import type { CircuitOpenError } from '../../core/errors';
import { circuitOpenPayload } from './breaker-error-payload';
import { grpcOpenStatus, isGrpcContext } from './grpc-open-error';
import { loadOptionalPackage } from './optional-package';

type MicroservicesPackage = Pick<
  typeof Microservices,
  'RpcException' | 'KafkaRetriableException' | 'KafkaContext'
>;

// Metadata keys and values of @nestjs/microservices (PATTERN_HANDLER_METADATA, PatternHandler.EVENT,
// TRANSPORT_METADATA, Transport.GRPC), read without loading the package.
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const EVENT_HANDLER = 2;
const TRANSPORT_METADATA = 'microservices:transport';
const GRPC_TRANSPORT = 4;

/** What the mapping knows of the handler: from its metadata when the host is an execution context. */
export interface RpcHandlerInfo {
  /** An `@EventPattern` handler (no reply: the error is for the transport's redelivery). */
  isEvent: boolean;
  /** A `@GrpcMethod` handler. */
  isGrpc: boolean;
}

export function rpcHandlerInfo(handler: unknown): RpcHandlerInfo {
  if (typeof handler !== 'function') return { isEvent: false, isGrpc: false };
  return {
    isEvent: Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) === EVENT_HANDLER,
    isGrpc: Reflect.getMetadata(TRANSPORT_METADATA, handler) === GRPC_TRANSPORT,
  };
}

function microservices(): MicroservicesPackage {
  return loadOptionalPackage<MicroservicesPackage>(
    '@nestjs/microservices',
    'mapping an open circuit in a microservice handler',
  );
}

/**
 * The error an open circuit becomes in a microservice handler:
 * - a message handler: `RpcException({ code: 'ECIRCUITOPEN', message, breaker, state, retryAfterMs })`, which
 *   Nest sends to the `ClientProxy` as that object;
 * - a gRPC method: an `RpcException` of the status object `UNAVAILABLE` + `grpc-retry-pushback-ms`;
 * - an event handler on Kafka: `KafkaRetriableException` (the message is not committed and is redelivered);
 *   on any other transport the `CircuitOpenError` itself, rethrown for the transport's own redelivery.
 */
export function rpcOpenError(error: CircuitOpenError, rpcContext: unknown, handler: RpcHandlerInfo): Error {
  const { RpcException, KafkaRetriableException, KafkaContext } = microservices();
  if (handler.isGrpc || isGrpcContext(rpcContext)) return new RpcException(grpcOpenStatus(error));
  if (handler.isEvent) {
    return rpcContext instanceof KafkaContext
      ? new KafkaRetriableException(circuitOpenPayload(error))
      : error;
  }
  return new RpcException(circuitOpenPayload(error));
}
