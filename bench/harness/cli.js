'use strict';
const { parseArgs } = require('node:util');

const DEFAULTS = { runs: 5, calls: 1_000_000, breakers: 10_000 };

const USAGE = `usage: npm run bench -- [options]
  --only a,b      run only these scenarios (ids: see --list)
  --runs N        measured runs per case; the median is reported (default ${DEFAULTS.runs}, at least 1)
  --calls N       sequential calls per measured run (default ${DEFAULTS.calls.toLocaleString('en-US')})
  --breakers N    breakers created by the heap scenario (default ${DEFAULTS.breakers.toLocaleString('en-US')})
  --ours PATH     load our engine from PATH (a built core directory) instead of dist/core, to compare builds
  --write         write bench/results/latest.md even for a partial run
  --no-write      never write bench/results/latest.md
  --list          list the scenarios and exit
  --help          this text`;

function positiveInt(name, text) {
  const value = Number(String(text).replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--${name} must be a positive integer, got "${text}"`);
  }
  return value;
}

/** Parses the bench's command line; throws an Error naming the bad flag. */
function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      runs: { type: 'string' },
      calls: { type: 'string' },
      breakers: { type: 'string' },
      ours: { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const opts = {
    only:
      values.only === undefined
        ? undefined
        : values.only
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    runs: values.runs === undefined ? DEFAULTS.runs : positiveInt('runs', values.runs),
    calls: values.calls === undefined ? DEFAULTS.calls : positiveInt('calls', values.calls),
    breakers: values.breakers === undefined ? DEFAULTS.breakers : positiveInt('breakers', values.breakers),
    ours: values.ours,
    write: values['no-write'] ? false : values.write ? true : undefined,
    list: values.list === true,
    help: values.help === true,
  };
  if (opts.only !== undefined && opts.only.length === 0)
    throw new Error('--only needs at least one scenario id');
  return opts;
}

/** A run whose table may stand for the project (README): all scenarios at full size. */
function isFullRun(opts) {
  return (
    opts.only === undefined &&
    opts.ours === undefined &&
    opts.runs >= DEFAULTS.runs &&
    opts.calls >= DEFAULTS.calls &&
    opts.breakers >= DEFAULTS.breakers
  );
}

module.exports = { parseCli, isFullRun, USAGE, DEFAULTS };
