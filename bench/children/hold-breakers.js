'use strict';
/**
 * Child process of the heap scenario: creates `count` breakers of one library, lets each see a few calls,
 * keeps them all reachable and never disposes them, idles for a moment (to measure what the breakers cost
 * while nothing happens), reports, and then simply stops doing anything. The parent times how long the
 * process takes to exit on its own: a library that keeps timers referenced would hold it open.
 *
 * usage: node hold-breakers.js <ours|cockatiel|opossum> <count> <idleMs> [oursPath]
 */
const path = require('node:path');

const [lib, countText, idleText, oursPath] = process.argv.slice(2);
const count = Number(countText);
const idleMs = Number(idleText);
const one = async () => 1;

function factory() {
  if (lib === 'ours') {
    const core = oursPath ? require(path.resolve(oursPath)) : require('nestjs-breaker/core');
    return { create: (i) => core.createBreaker(`held-${i}`), call: (b) => b.executePromise(one) };
  }
  if (lib === 'cockatiel') {
    const { circuitBreaker, handleAll, ConsecutiveBreaker } = require('cockatiel');
    return {
      create: () => circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) }),
      call: (b) => b.execute(one),
    };
  }
  if (lib === 'opossum') {
    const Opossum = require('opossum');
    return { create: (i) => new Opossum(one, { name: `held-${i}` }), call: (b) => b.fire() };
  }
  throw new Error(`unknown library "${lib}"`);
}

async function main() {
  const { create, call } = factory();
  const held = [];
  for (let i = 0; i < count; i++) {
    const breaker = create(i);
    for (let k = 0; k < 3; k++) await call(breaker);
    held.push(breaker);
  }
  globalThis.heldBreakers = held;
  const cpuBefore = process.cpuUsage();
  // The one referenced timer of this process: it keeps the child alive for the idle window only.
  setTimeout(() => {
    const cpu = process.cpuUsage(cpuBefore);
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    process.stdout.write(
      `${JSON.stringify({ held: held.length, idleMs, idleCpuMs: (cpu.user + cpu.system) / 1000, timers })}\n`,
    );
  }, idleMs);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
