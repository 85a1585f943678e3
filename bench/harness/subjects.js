'use strict';
const path = require('node:path');
const fs = require('node:fs');

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The libraries under test. Ours is the BUILT package, loaded by its public name (package self-reference
 * through package.json `exports`), so the bench measures exactly what users install.
 */
function loadSubjects(oursPath) {
  const entry = path.join(ROOT, 'dist', 'core', 'index.js');
  if (oursPath === undefined && !fs.existsSync(entry)) {
    throw new Error(
      `the built package is missing (${entry}): run \`npm run build\` first (npm run bench does)`,
    );
  }
  const version = (name) => require(`${name}/package.json`).version;
  return {
    ours: oursPath === undefined ? require('nestjs-breaker/core') : require(path.resolve(oursPath)),
    cockatiel: require('cockatiel'),
    Opossum: require('opossum'),
    versions: {
      ours: `${require(path.join(ROOT, 'package.json')).version} (${oursPath === undefined ? 'built dist/' : oursPath})`,
      cockatiel: version('cockatiel'),
      opossum: version('opossum'),
    },
  };
}

module.exports = { loadSubjects, ROOT };
