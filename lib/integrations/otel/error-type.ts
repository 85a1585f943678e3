import { CallTimeoutError } from '../../core/errors';

/** `error.type` of a failure whose type is unknown (or past the cap): OpenTelemetry's fallback value. */
export const OTHER_ERROR_TYPE = '_OTHER';

/** `error.type` of a call that exceeded `callTimeoutMs`. */
export const TIMEOUT_ERROR_TYPE = 'timeout';

/**
 * The `error.type` of a failed call: `timeout` for a call timeout, else the error's name (its class name
 * when the name was left at the generic `Error`). A thrown non-Error, or an error whose name cannot be
 * read, is `_OTHER`.
 */
export function errorType(error: unknown): string {
  if (error instanceof CallTimeoutError) return TIMEOUT_ERROR_TYPE;
  if (!(error instanceof Error)) return OTHER_ERROR_TYPE;
  try {
    const name: unknown = error.name;
    if (typeof name !== 'string' || name === '') return OTHER_ERROR_TYPE;
    if (name !== 'Error') return name;
    const className: unknown = (error.constructor as { name?: unknown } | undefined)?.name;
    return typeof className === 'string' && className !== '' ? className : name;
  } catch {
    // A hostile error (a throwing `name` getter) must not break the call that reported it.
    return OTHER_ERROR_TYPE;
  }
}
