/**
 * Loads an optional peer when a transport that needs it is in use. The transports' packages are never
 * imported at the top of a file: an application that uses none of them does not need them installed,
 * and one that meets, say, a GraphQL context has `graphql` installed by definition.
 */
export function loadOptionalPackage<T>(name: string, usedFor: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peers, loaded on first use
    return require(name) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
      throw new Error(
        `nestjs-breaker: ${usedFor} needs the package "${name}", which is not installed (npm install ${name})`,
        { cause: error },
      );
    throw error;
  }
}
