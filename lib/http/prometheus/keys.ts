import { CircuitState } from '../../core/circuit-state';
import type { BreakerRegistry } from '../../core/registry';
import type { BreakerSnapshot } from '../../core/types';
import type { MetricSample } from './format';

const STATES = Object.values(CircuitState);

/** The snapshot counters behind `calls_total{kind}` (the collector's own list, passed in). */
type CallKinds = readonly (readonly [string, keyof BreakerSnapshot])[];

/** What the keyed breakers of every family add to an exposition. */
export interface FamilyKeySamples {
  /** `keys{name,state}`: alive keys by state (FORCED_OPEN counts as open). */
  keys: MetricSample[];
  /** `keys_evicted_total{name}` */
  evicted: MetricSample[];
  /** `state{name,key,state}`, only for families with `keys.metrics: 'key'`. */
  keyStates: MetricSample[];
  /** `calls_total{name,key,kind}`, only for families with `keys.metrics: 'key'`. */
  keyCalls: MetricSample[];
}

/**
 * Reads the families of a registry for Prometheus. Family totals already come from `registry.metrics()`
 * (the family view adds up every keyed call); this adds the key counts, and a series per alive key for
 * the families that asked for them (`keys.metrics: 'key'`, meant for small families).
 */
export function familyKeySamples(
  registry: BreakerRegistry,
  snapshots: Record<string, BreakerSnapshot>,
  callKinds: CallKinds,
): FamilyKeySamples {
  const out: FamilyKeySamples = { keys: [], evicted: [], keyStates: [], keyCalls: [] };
  for (const name in snapshots) {
    const counts = snapshots[name].keys;
    if (counts === undefined) continue;
    const closed = counts.alive - counts.open - counts.halfOpen;
    out.keys.push(
      { labels: { name, state: 'closed' }, value: closed },
      { labels: { name, state: 'open' }, value: counts.open },
      { labels: { name, state: 'half_open' }, value: counts.halfOpen },
    );
    out.evicted.push({ labels: { name }, value: counts.evicted });
    const family = registry.familyOf(name);
    if (family === undefined || family.limits.metrics !== 'key') continue;
    for (const breaker of family.breakers()) {
      const snapshot = breaker.snapshot();
      const key = snapshot.key as string;
      for (const s of STATES)
        out.keyStates.push({ labels: { name, key, state: s }, value: s === snapshot.state ? 1 : 0 });
      for (const [kind, field] of callKinds)
        out.keyCalls.push({ labels: { name, key, kind }, value: snapshot[field] as number });
    }
  }
  return out;
}
