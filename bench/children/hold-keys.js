'use strict';
/**
 * Child process of the keyed-heap scenario: creates `count` keyed breakers in one registry, calls each once,
 * keeps them alive, idles `idleMs` with one referenced timer, reports its CPU use over the idle window.
 *
 * usage: node hold-keys.js <count> <idleMs> [oursPath]
 */
const path = require('node:path');

const [countText, idleText, oursPath] = process.argv.slice(2);
const count = Number(countText);
const idleMs = Number(idleText);
const one = async () => 1;

async function main() {
  const core = oursPath ? require(path.resolve(oursPath)) : require('nestjs-breaker/core');
  const registry = new core.BreakerRegistry({ defaults: { keys: { max: count } } });
  for (let i = 0; i < count; i++) await registry.get('payment', `merchant-${i}`).executePromise(one);
  globalThis.heldRegistry = registry;
  const cpuBefore = process.cpuUsage();
  setTimeout(() => {
    const cpu = process.cpuUsage(cpuBefore);
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const held = registry.keys('payment').length;
    process.stdout.write(
      `${JSON.stringify({ held, idleMs, idleCpuMs: (cpu.user + cpu.system) / 1000, timers })}\n`,
    );
  }, idleMs);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
