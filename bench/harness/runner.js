'use strict';
const { summarize, pairedRatio } = require('./stats');

/** Lets timers and I/O callbacks that piled up during the previous case run before the next one. */
function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function callsFor(testCase, ctx) {
  return Math.max(1, Math.round(ctx.calls * (testCase.scale ?? 1)));
}

/**
 * Runs one scenario: a warm-up round (discarded), then `ctx.runs` measured rounds. Every round runs each
 * case once, interleaved (A, B, C, then B, C, A, ...: the starting case rotates so that no case always
 * follows the same neighbour), with a full GC between cases so one case's garbage is not collected on
 * another's clock.
 */
async function runScenario(scenario, ctx, log) {
  const cases = scenario.cases;
  const samples = new Map(cases.map((c) => [c.id, []]));
  for (let round = 0; round <= ctx.runs; round++) {
    const warmUp = round === 0;
    log(`  ${scenario.id}: ${warmUp ? 'warm-up' : `run ${round}/${ctx.runs}`}`);
    for (const testCase of rotate(cases, round)) {
      const full = callsFor(testCase, ctx);
      const n = warmUp ? Math.max(1, Math.round(full / 10)) : full;
      await settle();
      if (ctx.gc !== undefined) ctx.gc();
      let value;
      try {
        value = await testCase.measure(ctx, n);
      } catch (error) {
        throw new Error(`scenario "${scenario.id}", case "${testCase.id}": ${error.message}`, {
          cause: error,
        });
      }
      if (!warmUp) samples.get(testCase.id).push(value);
    }
  }
  const results = new Map();
  for (const testCase of cases) {
    results.set(testCase.id, { ...summarize(samples.get(testCase.id)), calls: callsFor(testCase, ctx) });
  }
  const checks = scenario.checks === undefined ? [] : await scenario.checks(ctx, log);
  return { scenario, results, targets: evaluateTargets(scenario, results), checks };
}

/** A target compares two cases (paired ratio): `max` (ratio at most) or `within` ([low, high] inclusive). */
function evaluateTargets(scenario, results) {
  return (scenario.targets ?? []).map((target) => {
    const of = results.get(target.of);
    const vs = results.get(target.vs);
    if (of === undefined || vs === undefined) {
      throw new Error(`scenario "${scenario.id}": target "${target.label}" names an unknown case`);
    }
    const ratio = pairedRatio(of, vs);
    const pass =
      target.max !== undefined ? ratio <= target.max : ratio >= target.within[0] && ratio <= target.within[1];
    const limit =
      target.max !== undefined ? `≤ ${target.max}×` : `${target.within[0]}× – ${target.within[1]}×`;
    return { label: target.label, ratio, limit, pass };
  });
}

module.exports = { runScenario };
