'use strict';

/**
 * Turns a case's `build(ctx)` into a measure function returning ns per call.
 *
 * `build` returns the loop to time, `async (n) => void`, or `{ run, check?, close? }`: `check(n)` runs
 * after the loop and throws when the subject did not do what the case claims (a breaker that opened
 * when it should have stayed closed would make the number meaningless); `close()` releases what the
 * subject holds (opossum's interval timers).
 *
 * Each case writes its own loop in its own function literal: V8 keeps type feedback per call site, so
 * one shared `await subject()` loop would become megamorphic and slow every case down differently.
 */
function timed(build) {
  return async (ctx, n) => {
    const built = await build(ctx);
    const subject = typeof built === 'function' ? { run: built } : built;
    try {
      const start = process.hrtime.bigint();
      await subject.run(n);
      const elapsed = process.hrtime.bigint() - start;
      if (subject.check !== undefined) subject.check(n);
      return Number(elapsed) / n;
    } finally {
      if (subject.close !== undefined) subject.close();
    }
  };
}

/** Throws with `message` when `condition` is false: a case whose subject misbehaved has no valid figure. */
function expect(condition, message) {
  if (!condition) throw new Error(`bench sanity check failed: ${message}`);
}

module.exports = { timed, expect };
