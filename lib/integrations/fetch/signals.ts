/**
 * One signal that aborts when either does. Most calls have at most one of them, and then no new signal is
 * made (`AbortSignal.any` keeps a listener on each source until the result is collected).
 */
export function eitherSignal(
  a: AbortSignal | undefined | null,
  b: AbortSignal | undefined | null,
): AbortSignal | undefined {
  if (a === undefined || a === null || a === b) return b ?? undefined;
  if (b === undefined || b === null) return a;
  return AbortSignal.any([a, b]);
}
