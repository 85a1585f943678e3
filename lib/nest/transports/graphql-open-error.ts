import type { GraphQLError as GraphQLErrorClass } from 'graphql';
import type { CircuitOpenError } from '../../core/errors';
import { circuitOpenPayload } from './breaker-error-payload';
import { loadOptionalPackage } from './optional-package';

/**
 * The GraphQL error an open circuit becomes: the field resolves to null (when nullable) with this error in
 * the response's `errors`, `extensions: { code: 'SERVICE_UNAVAILABLE', breaker, state, retryAfterMs }`.
 * The other fields of the query resolve as usual.
 */
export function graphqlOpenError(error: CircuitOpenError): Error {
  const { GraphQLError } = loadOptionalPackage<{ GraphQLError: typeof GraphQLErrorClass }>(
    'graphql',
    'mapping an open circuit in a GraphQL resolver',
  );
  const { message, breaker, state, retryAfterMs, key } = circuitOpenPayload(error);
  return new GraphQLError(message, {
    originalError: error,
    extensions: {
      code: 'SERVICE_UNAVAILABLE',
      breaker,
      state,
      retryAfterMs,
      ...(key === undefined ? {} : { key }),
    },
  });
}
