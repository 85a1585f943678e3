// Figures of a chaos recording: per-phase aggregates, per-bucket series, time to recover.

/** A number for a table: fixed digits, or '–' when there is none. */
export const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** The q-quantile (0..1) of an ascending array, nearest rank; NaN when empty. */
export function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Aggregates of the requests that ended in [start, end) and of the downstream ticks in (start, end]. */
export function phaseStats(recording, ticks, start, end) {
  const seconds = (end - start) / 1000;
  const latencies = [];
  let ok = 0;
  for (let i = 0; i < recording.end.length; i++) {
    const t = recording.end[i];
    if (t < start || t >= end) continue;
    latencies.push(recording.latency[i]);
    if (recording.status[i] === 200) ok++;
  }
  latencies.sort((a, b) => a - b);
  let received = 0;
  let served = 0;
  let beyond = 0;
  for (const tick of ticks) {
    if (tick.t <= start || tick.t > end) continue;
    received += tick.received;
    served += tick.served;
    beyond += tick.beyondCapacity;
  }
  return {
    rps: latencies.length / seconds,
    okRps: ok / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    downstreamRps: received / seconds,
    servedRps: served / seconds,
    beyondRps: beyond / seconds,
  };
}

/** One row per bucket of `bucketMs`: latency percentiles, throughput, downstream calls (per second). */
export function seriesOf(recording, ticks, bucketMs, run) {
  const buckets = new Map();
  const bucket = (i) => {
    let b = buckets.get(i);
    if (b === undefined) buckets.set(i, (b = { latencies: [], ok: 0, downstream: 0 }));
    return b;
  };
  for (let i = 0; i < recording.end.length; i++) {
    const b = bucket(Math.floor(recording.end[i] / bucketMs));
    b.latencies.push(recording.latency[i]);
    if (recording.status[i] === 200) b.ok++;
  }
  for (const tick of ticks) bucket(Math.ceil(tick.t / bucketMs) - 1).downstream += tick.received;
  const perSecond = 1000 / bucketMs;
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, b]) => {
      b.latencies.sort((x, y) => x - y);
      return {
        run,
        t: ((i + 1) * bucketMs) / 1000,
        p50: b.latencies.length ? percentile(b.latencies, 0.5) : null,
        p99: b.latencies.length ? percentile(b.latencies, 0.99) : null,
        rps: b.latencies.length * perSecond,
        okRps: b.ok * perSecond,
        downstream: b.downstream * perSecond,
      };
    });
}

/**
 * Milliseconds from `healStart` until the first moment from which 95 % of the answers over the next
 * second are OK (200); undefined when that never happens before `healEnd`.
 */
export function recoveryMs(recording, healStart, healEnd) {
  const events = [];
  for (let i = 0; i < recording.end.length; i++) {
    const t = recording.end[i];
    if (t >= healStart && t < healEnd) events.push([t, recording.status[i] === 200 ? 1 : 0]);
  }
  events.sort((a, b) => a[0] - b[0]);
  let j = 0;
  let count = 0;
  let ok = 0;
  for (let i = 0; i < events.length; i++) {
    const from = events[i][0];
    if (from + 1000 > healEnd) break;
    while (j < events.length && events[j][0] < from + 1000) {
      count++;
      ok += events[j][1];
      j++;
    }
    if (count > 0 && ok / count >= 0.95) return from - healStart;
    count--;
    ok -= events[i][1];
  }
  return undefined;
}
