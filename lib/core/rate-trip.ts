import type { ResolvedOptions } from './options';

/** A percentage with two decimals, as snapshots and trip reasons show it. */
export function rate(part: number, total: number): number {
  return Math.round((part / total) * 100 * 100) / 100;
}

/**
 * Why the rates over a window of `total` calls trip the circuit (failure rate first, then slow-call
 * rate), or undefined while both stay under their thresholds. `fleetWide`: the totals include other
 * instances' calls, which the reason says so that a trip nobody saw locally can be explained.
 */
export function rateTripReason(
  o: ResolvedOptions,
  total: number,
  failures: number,
  slow: number,
  fleetWide: boolean,
): string | undefined {
  const scope = fleetWide ? ' (fleet-wide)' : '';
  if (o.failureRateThreshold !== undefined && failures * 100 >= o.failureRateThreshold * total) {
    return `failure rate ${rate(failures, total)}% >= ${o.failureRateThreshold}% over ${total} calls${scope}`;
  }
  if (o.slowCallRateThreshold !== undefined && slow * 100 >= o.slowCallRateThreshold * total) {
    return `slow-call rate ${rate(slow, total)}% >= ${o.slowCallRateThreshold}% over ${total} calls${scope}`;
  }
  return undefined;
}
