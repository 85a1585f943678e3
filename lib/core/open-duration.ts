import type { ResolvedOptions } from './options';

/**
 * Names already warned about a bad `halfOpenBackoff`: the warning is printed once per name (a keyed
 * family shares its name, so it warns once, not once per key).
 */
const warned = new Set<string>();

/**
 * How long the `attempt`-th consecutive opening lasts, in ms (`halfOpenAfterMs`, grown by
 * `halfOpenBackoff`). A backoff function that throws or returns no usable duration falls back to
 * `halfOpenAfterMs` with a process warning (code EBREAKERCALLBACK), once per breaker name: a bug in user
 * code must neither keep a circuit open forever nor stop it from opening.
 */
export function openDuration(
  breaker: { readonly name: string },
  options: ResolvedOptions,
  attempt: number,
  random: () => number,
): number {
  const base = options.halfOpenAfterMs;
  const backoff = options.halfOpenBackoff;
  if (backoff === undefined) return base;
  if (typeof backoff === 'function') {
    let ms: unknown;
    let problem: string;
    try {
      ms = backoff(attempt);
      if (typeof ms === 'number' && ms >= 0 && Number.isFinite(ms)) return ms;
      problem = `returned ${String(ms)}, not a duration in ms`;
    } catch (thrown) {
      problem = `threw ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`;
    }
    if (!warned.has(breaker.name)) {
      warned.add(breaker.name);
      process.emitWarning(
        `breaker "${breaker.name}": halfOpenBackoff(${attempt}) ${problem}; using halfOpenAfterMs (${base})`,
        { code: 'EBREAKERCALLBACK' },
      );
    }
    return base;
  }
  const ms = Math.min(backoff.maxMs, base * Math.pow(backoff.multiplier, attempt - 1));
  if (!backoff.jitter) return ms;
  return Math.max(0, ms * (1 + backoff.jitter * (2 * random() - 1)));
}
