'use strict';
/**
 * `npm run bench`: nestjs-breaker against opossum and cockatiel, side by side in one process, interleaved,
 * medians of several runs. Scenarios are the modules in bench/scenarios (see bench/README.md).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseCli, isFullRun, USAGE } = require('./harness/cli');
const { loadSubjects } = require('./harness/subjects');
const { runScenario } = require('./harness/runner');
const { toText, toMarkdown } = require('./harness/report');

const SCENARIO_DIR = path.join(__dirname, 'scenarios');
const RESULT_FILE = path.join(__dirname, 'results', 'latest.md');

function loadScenarios() {
  return fs
    .readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.js'))
    .map((f) => require(path.join(SCENARIO_DIR, f)))
    .sort((a, b) => a.order - b.order);
}

async function formatMarkdown(text) {
  try {
    const prettier = require('prettier');
    const config = (await prettier.resolveConfig(RESULT_FILE)) ?? {};
    return await prettier.format(text, { ...config, parser: 'markdown' });
  } catch {
    // prettier is a devDependency; without it the table is still valid markdown, only not column-aligned.
    return text;
  }
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  const all = loadScenarios();
  if (opts.help) return console.log(USAGE);
  if (opts.list) return all.forEach((s) => console.log(`${s.id.padEnd(12)} ${s.title}`));
  if (opts.only !== undefined) {
    const unknown = opts.only.filter((id) => !all.some((s) => s.id === id));
    if (unknown.length > 0) {
      throw new Error(
        `--only: unknown scenario ${unknown.join(', ')}; known: ${all.map((s) => s.id).join(', ')}`,
      );
    }
  }
  const selected = opts.only === undefined ? all : all.filter((s) => opts.only.includes(s.id));
  const needsGc = selected.filter((s) => s.needsGc).map((s) => s.id);
  if (typeof global.gc !== 'function' && needsGc.length > 0) {
    throw new Error(
      `scenario ${needsGc.join(', ')} needs global.gc(): run node with --expose-gc (npm run bench does)`,
    );
  }
  const libs = loadSubjects(opts.ours);
  const ctx = { ...opts, libs, gc: typeof global.gc === 'function' ? global.gc : undefined };
  const log = (line) => process.stderr.write(`${line}\n`);
  const outcomes = [];
  const started = Date.now();
  for (const scenario of selected) {
    log(`${scenario.title}`);
    outcomes.push(await runScenario(scenario, ctx, log));
  }
  const cpus = os.cpus();
  const meta = {
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
      ' ',
    ),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    runs: opts.runs,
    calls: opts.calls,
    breakers: opts.breakers,
    peers: `nestjs-breaker ${libs.versions.ours}, cockatiel ${libs.versions.cockatiel}, opossum ${libs.versions.opossum}`,
  };
  console.log(toText(outcomes, meta));
  log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const write = opts.write ?? isFullRun(opts);
  if (write) {
    fs.mkdirSync(path.dirname(RESULT_FILE), { recursive: true });
    fs.writeFileSync(RESULT_FILE, await formatMarkdown(toMarkdown(outcomes, meta)));
    log(`wrote ${path.relative(process.cwd(), RESULT_FILE)}`);
  } else {
    log(
      `partial run: ${path.relative(process.cwd(), RESULT_FILE)} left as it was (pass --write to replace it)`,
    );
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error.message}`);
  process.exitCode = 1;
});
