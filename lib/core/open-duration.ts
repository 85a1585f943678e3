import type { ResolvedOptions } from './options';

/** Breakers already warned about a bad `halfOpenBackoff` result: the warning is printed once per breaker. */
const warned = new WeakSet<object>();

/**
 * How long the `attempt`-th consecutive opening lasts, in ms (`halfOpenAfterMs`, grown by
 * `halfOpenBackoff`). A backoff function that returns no usable duration falls back to `halfOpenAfterMs`
 * with a warning, once per `breaker`: a typo in user code must not keep a circuit open forever.
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
    const ms = backoff(attempt);
    if (typeof ms === 'number' && ms >= 0 && Number.isFinite(ms)) return ms;
    if (!warned.has(breaker)) {
      warned.add(breaker);
      process.emitWarning(
        `breaker "${breaker.name}": halfOpenBackoff(${attempt}) returned ${String(ms)}, not a duration in ms; using halfOpenAfterMs (${base})`,
        { code: 'EBREAKERCONFIG' },
      );
    }
    return base;
  }
  const ms = Math.min(backoff.maxMs, base * Math.pow(backoff.multiplier, attempt - 1));
  if (!backoff.jitter) return ms;
  return Math.max(0, ms * (1 + backoff.jitter * (2 * random() - 1)));
}
