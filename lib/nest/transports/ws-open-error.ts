import type * as WebSockets from '@nestjs/websockets';
import type { CircuitOpenError } from '../../core/errors';
import { circuitOpenPayload } from './breaker-error-payload';
import { loadOptionalPackage } from './optional-package';

type WebSocketsPackage = Pick<typeof WebSockets, 'WsException'>;

/**
 * The error an open circuit becomes in a WebSocket gateway handler: `WsException` of the same object as
 * RPC's, which Nest emits to the client as its `exception` event.
 */
export function wsOpenError(error: CircuitOpenError): Error {
  const { WsException } = loadOptionalPackage<WebSocketsPackage>(
    '@nestjs/websockets',
    'mapping an open circuit in a WebSocket gateway',
  );
  return new WsException(circuitOpenPayload(error));
}
