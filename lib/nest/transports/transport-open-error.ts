import type { ArgumentsHost } from '@nestjs/common';
import type { CircuitOpenError } from '../../core/errors';
import { graphqlOpenError } from './graphql-open-error';
import { rpcHandlerInfo, rpcOpenError } from './rpc-open-error';
import { wsOpenError } from './ws-open-error';

/**
 * What an open circuit becomes on the transport of `host` (GraphQL, RPC incl. gRPC, WebSockets); the
 * error itself for any other context. `handler` is the handler function when known (an interceptor knows
 * it, an exception filter does not), to tell event handlers and gRPC methods apart.
 *
 * Each transport's package is loaded only here, when its context is met (so it is installed).
 */
export function transportOpenError(error: CircuitOpenError, host: ArgumentsHost, handler?: unknown): Error {
  switch (host.getType<string>()) {
    case 'graphql':
      return graphqlOpenError(error);
    case 'rpc':
      return rpcOpenError(error, host.switchToRpc().getContext(), rpcHandlerInfo(handler));
    case 'ws':
      return wsOpenError(error);
    default:
      return error;
  }
}
