import type { Attributes } from '@opentelemetry/api';
import type { Breaker } from '../../core/breaker';
import type { CircuitState } from '../../core/circuit-state';
import type { BreakerSnapshot } from '../../core/types';
import { ATTR, seriesAttributes } from './breaker-attributes';
import { OTHER_ERROR_TYPE, TIMEOUT_ERROR_TYPE } from './error-type';

/** Distinct `error.type` values kept per breaker; further types are counted as `_OTHER`. */
export const MAX_ERROR_TYPES = 50;

/** The outcomes of `circuit_breaker.calls`: disjoint, so their sum is every settled call. */
export type CallOutcome = 'success' | 'failure' | 'ignored' | 'rejected' | 'throttled' | 'cancelled';

/** Cumulative counts a breaker's snapshot holds, as this instrumentation reports them. */
export interface CallCounts {
  success: number;
  /** Every recorded failure, timeouts included. */
  failure: number;
  timeout: number;
  ignored: number;
  /** Rejections other than throttling (open circuit, probes taken, bulkhead full). */
  rejected: number;
  throttled: number;
  cancelled: number;
  fallbacks: number;
}

/** The counts of a snapshot. `throttledCalls` is read defensively: only throttling breakers have it. */
export function countsOf(snapshot: BreakerSnapshot): CallCounts {
  const throttled = (snapshot as { throttledCalls?: number }).throttledCalls ?? 0;
  return {
    success: snapshot.successfulCalls,
    failure: snapshot.failedCalls,
    timeout: snapshot.timeouts,
    ignored: snapshot.ignoredCalls,
    rejected: snapshot.rejectedCalls - throttled,
    throttled,
    cancelled: snapshot.cancelledCalls,
    fallbacks: snapshot.fallbacks,
  };
}

function zeroCounts(): CallCounts {
  return {
    success: 0,
    failure: 0,
    timeout: 0,
    ignored: 0,
    rejected: 0,
    throttled: 0,
    cancelled: 0,
    fallbacks: 0,
  };
}

/**
 * What the instrumentation keeps per breaker name. It outlives a breaker that `register()` replaces: the
 * replaced breaker's counts are carried, so the name's counters never go backwards. Attribute objects are
 * built once and reused by every collection.
 */
export class BreakerTally {
  breaker: Breaker | undefined = undefined;
  /** Detaches the observers installed on `breaker`. */
  detach: (() => void) | undefined = undefined;
  /** Counts of the breakers that held this name before. */
  readonly carried: CallCounts = zeroCounts();
  /** Failures other than timeouts, by `error.type`, seen since instrumentation began. */
  readonly failuresByType = new Map<string, number>();
  /** Transitions keyed by `from` + NUL + `to`. */
  readonly transitions = new Map<string, number>();
  readonly series: Attributes;
  private readonly outcomeAttrs = new Map<string, Attributes>();
  private readonly transitionAttrs = new Map<string, Attributes>();
  /** The states this breaker has been seen in, with their gauge attributes. */
  private readonly seenStates = new Map<CircuitState, Attributes>();

  constructor(readonly name: string) {
    this.series = seriesAttributes(name);
  }

  /**
   * The states to report on the state gauge: every state seen so far (at a collection or in a
   * transition; the current one included). Once reported, a state is reported on every collection (0 when left), so that no stale 1
   * lingers; a state never entered is not reported, which keeps one series per breaker for the usual
   * one that never leaves CLOSED (the SDK's default limit is 2,000 series per instrument).
   */
  statesToReport(current: CircuitState): Map<CircuitState, Attributes> {
    this.sawState(current);
    return this.seenStates;
  }

  /** Marks a state as entered or left (from a transition), so the gauge reports it from now on. */
  sawState(state: CircuitState): void {
    if (!this.seenStates.has(state)) this.seenStates.set(state, { ...this.series, [ATTR.state]: state });
  }

  /** Counts a non-timeout failure under its type (new types beyond the cap go to `_OTHER`). */
  countFailure(type: string): void {
    const known = this.failuresByType.get(type);
    if (known !== undefined) this.failuresByType.set(type, known + 1);
    else if (this.failuresByType.size < MAX_ERROR_TYPES) this.failuresByType.set(type, 1);
    else this.failuresByType.set(OTHER_ERROR_TYPE, (this.failuresByType.get(OTHER_ERROR_TYPE) ?? 0) + 1);
  }

  countTransition(from: string, to: string): void {
    const key = `${from}\0${to}`;
    this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
  }

  /** The breaker's counts now plus those carried from its predecessors. */
  totals(snapshot: BreakerSnapshot): CallCounts {
    const now = countsOf(snapshot);
    const c = this.carried;
    return {
      success: now.success + c.success,
      failure: now.failure + c.failure,
      timeout: now.timeout + c.timeout,
      ignored: now.ignored + c.ignored,
      rejected: now.rejected + c.rejected,
      throttled: now.throttled + c.throttled,
      cancelled: now.cancelled + c.cancelled,
      fallbacks: now.fallbacks + c.fallbacks,
    };
  }

  /** Adds a breaker's final counts to the carried ones (its name passes to a new breaker). */
  carry(snapshot: BreakerSnapshot): void {
    const last = countsOf(snapshot);
    for (const key of Object.keys(last) as (keyof CallCounts)[]) this.carried[key] += last[key];
  }

  /**
   * The failures as `[error.type, count]` pairs that add up to `total.failure` exactly: timeouts, the
   * types seen, and `_OTHER` for failures whose error was never seen (made before instrumentation began).
   */
  failureSplit(total: CallCounts): [string, number][] {
    const out: [string, number][] = [];
    if (total.timeout > 0) out.push([TIMEOUT_ERROR_TYPE, total.timeout]);
    let named = 0;
    for (const [type, count] of this.failuresByType) {
      if (type === OTHER_ERROR_TYPE) continue;
      named += count;
      out.push([type, count]);
    }
    // Failures past the type cap, and those made before instrumentation began (their errors were never seen).
    const other = total.failure - total.timeout - named;
    if (other > 0) out.push([OTHER_ERROR_TYPE, other]);
    return out;
  }

  outcome(outcome: CallOutcome, type?: string): Attributes {
    const cacheKey = type === undefined ? outcome : `${outcome}\0${type}`;
    let attrs = this.outcomeAttrs.get(cacheKey);
    if (attrs === undefined) {
      attrs = { ...this.series, [ATTR.outcome]: outcome };
      if (type !== undefined) attrs[ATTR.errorType] = type;
      this.outcomeAttrs.set(cacheKey, attrs);
    }
    return attrs;
  }

  /** `[attributes, count]` per transition seen. */
  transitionSeries(): [Attributes, number][] {
    const out: [Attributes, number][] = [];
    for (const [key, count] of this.transitions) {
      let attrs = this.transitionAttrs.get(key);
      if (attrs === undefined) {
        const cut = key.indexOf('\0');
        attrs = { ...this.series, [ATTR.from]: key.slice(0, cut), [ATTR.to]: key.slice(cut + 1) };
        this.transitionAttrs.set(key, attrs);
      }
      out.push([attrs, count]);
    }
    return out;
  }
}
