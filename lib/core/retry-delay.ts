import type { RetryBackoff } from './types';

/** The wait before retry number `attempt` (1 = after the first failure), in ms. */
export function retryDelay(backoff: Required<RetryBackoff>, attempt: number, random: () => number): number {
  const raw = backoff.type === 'constant' ? backoff.baseMs : backoff.baseMs * Math.pow(2, attempt - 1);
  const capped = Math.min(backoff.maxMs, raw);
  return backoff.jitter === 'full' ? random() * capped : capped;
}
