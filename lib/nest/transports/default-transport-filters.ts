import type { ArgumentsHost } from '@nestjs/common';
import type * as Microservices from '@nestjs/microservices';
import type * as WebSockets from '@nestjs/websockets';
import { throwError, type Observable } from 'rxjs';
import { loadOptionalPackage } from './optional-package';

/**
 * Hands `error` to Nest's own handling of the host's transport, as if no filter had caught it: the RPC
 * and WebSocket base filters (loaded only when their context is met), a rethrow elsewhere (GraphQL's
 * external filter rethrows too).
 */
export function defaultTransportHandling(error: unknown, host: ArgumentsHost): void | Observable<never> {
  switch (host.getType<string>()) {
    case 'rpc': {
      const { BaseRpcExceptionFilter } = loadOptionalPackage<
        Pick<typeof Microservices, 'BaseRpcExceptionFilter'>
      >('@nestjs/microservices', 'answering an error in a microservice handler');
      return new BaseRpcExceptionFilter().catch(error, host) as Observable<never>;
    }
    case 'ws': {
      const { BaseWsExceptionFilter } = loadOptionalPackage<Pick<typeof WebSockets, 'BaseWsExceptionFilter'>>(
        '@nestjs/websockets',
        'answering an error in a WebSocket gateway',
      );
      new BaseWsExceptionFilter().catch(error, host);
      return;
    }
    case 'graphql':
      throw error;
    default:
      return throwError(() => error);
  }
}
