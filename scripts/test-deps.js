// Where the two programs the tests drive live: Chromium (the browser tests) and redis-server (the Redis
// tests). Shared by the `pretest` provisioning (scripts/provision-test-deps.js) and the test helpers, so
// that what `npm test` checks is what the tests then launch.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** The programs, the variable that overrides each, the names to look for on PATH and the apt package. */
const TEST_DEPS = [
  {
    what: 'Chromium',
    variable: 'CHROMIUM_PATH',
    names: ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'],
    aptPackage: 'chromium',
  },
  {
    what: 'redis-server',
    variable: 'REDIS_SERVER',
    names: ['redis-server'],
    aptPackage: 'redis-server',
  },
];

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` found as an executable file in the folders of `envPath`, or undefined. */
function findOnPath(names, envPath) {
  const dirs = (envPath || '').split(path.delimiter).filter((dir) => dir !== '');
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * Resolves one test dependency in `env`: `{ path }` when found, `{ error }` when its variable names a
 * file that is not an executable (a set variable is never second-guessed), `{}` when simply not found.
 */
function locate(dep, env = process.env) {
  const given = env[dep.variable];
  if (given !== undefined && given !== '') {
    return isExecutable(given)
      ? { path: given }
      : { error: `${dep.variable}=${given} is not an executable file (unset it to look on PATH)` };
  }
  const found = findOnPath(dep.names, env.PATH);
  return found === undefined ? {} : { path: found };
}

/** The path of a test dependency, or an Error whose message says how to get it. */
function resolveTestDep(variable, env = process.env) {
  const dep = TEST_DEPS.find((d) => d.variable === variable);
  if (dep === undefined) throw new Error(`unknown test dependency variable ${variable}`);
  const { path: found, error } = locate(dep, env);
  if (found !== undefined) return found;
  return new Error(
    error ??
      `${dep.what} was not found on PATH (${dep.names.join(', ')}): run "npm test" once to install it, or "sudo apt-get install -y ${dep.aptPackage}", or set ${dep.variable}`,
  );
}

module.exports = { TEST_DEPS, findOnPath, locate, resolveTestDep };
