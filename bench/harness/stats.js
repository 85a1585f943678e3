'use strict';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarize(samples) {
  return {
    samples,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/**
 * The median over rounds of `a`'s sample divided by `b`'s from the same round: a paired comparison, so a
 * load spike that slows one round (and both cases in it) does not tilt the ratio the way it can tilt one
 * case's median.
 */
function pairedRatio(a, b) {
  return median(a.samples.map((value, round) => value / b.samples[round]));
}

module.exports = { median, summarize, pairedRatio };
