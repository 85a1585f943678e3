#!/usr/bin/env node
// `npm test`'s pretest: makes sure Chromium (browser tests) and redis-server (Redis tests) are here.
// Found on PATH or through CHROMIUM_PATH / REDIS_SERVER: nothing to do. Missing, as root with apt-get:
// installs them (`apt-get update && apt-get install -y ...`). Otherwise stops with one line naming the
// command to run, instead of letting ten browser tests fail with a launch error.
'use strict';
const { spawnSync } = require('node:child_process');
const { TEST_DEPS, findOnPath, locate } = require('./test-deps');

/** Runs a command with its output on our stderr; returns its exit status (null when it could not start). */
function runCommand(command, args, env) {
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return result.error === undefined ? result.status : null;
}

/**
 * Finds or installs the test dependencies. Returns the exit code and the one line to print.
 * `isRoot`, `run` and `say` are parameters so the tests can drive every path without touching the system.
 */
function provision({
  env = process.env,
  isRoot = process.getuid?.() === 0,
  run = runCommand,
  say = (line) => process.stderr.write(line + '\n'),
} = {}) {
  let found = TEST_DEPS.map((dep) => ({ dep, ...locate(dep, env) }));
  const misconfigured = found.filter((f) => f.error !== undefined);
  if (misconfigured.length > 0)
    return { code: 1, line: `npm test: ${misconfigured.map((f) => f.error).join('; ')}` };

  let missing = found.filter((f) => f.path === undefined);
  const packages = () => missing.map((f) => f.dep.aptPackage).join(' ');
  const aptGet = findOnPath(['apt-get'], env.PATH);
  if (missing.length > 0 && isRoot && aptGet !== undefined) {
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    say(`npm test: installing ${packages()} with apt-get (a few minutes, once)`);
    const ok =
      run(aptGet, ['update', '-qq'], aptEnv) === 0 &&
      run(aptGet, ['install', '-y', '-qq', ...missing.map((f) => f.dep.aptPackage)], aptEnv) === 0;
    found = TEST_DEPS.map((dep) => ({ dep, ...locate(dep, env) }));
    const stillMissing = found.filter((f) => f.path === undefined);
    if (!ok || stillMissing.length > 0)
      return {
        code: 1,
        line: `npm test: "apt-get install -y ${packages()}" did not provide ${stillMissing.map((f) => f.dep.what).join(' and ') || 'a working install'}; install it by hand or set ${missing.map((f) => f.dep.variable).join(' / ')}`,
      };
    missing = [];
  }
  if (missing.length > 0) {
    const sudo = isRoot ? '' : 'sudo ';
    const install =
      aptGet === undefined
        ? `install ${missing.map((f) => f.dep.what).join(' and ')} with your package manager (Debian/Ubuntu: "${sudo}apt-get install -y ${packages()}")`
        : `run "${sudo}apt-get update && ${sudo}apt-get install -y ${packages()}"`;
    return {
      code: 1,
      line: `npm test needs ${missing.map((f) => f.dep.what).join(' and ')}, not found here: ${install}, or set ${missing.map((f) => f.dep.variable).join(' / ')} to the executable`,
    };
  }
  return {
    code: 0,
    line: `npm test: ${found.map((f) => `${f.dep.what} ${f.path}`).join(', ')}`,
  };
}

module.exports = { provision };

if (require.main === module) {
  const { code, line } = provision();
  (code === 0 ? process.stdout : process.stderr).write(line + '\n');
  process.exitCode = code;
}
