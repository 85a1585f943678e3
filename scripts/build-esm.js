// Writes ESM entry points next to the CommonJS build. Each one re-exports the CommonJS module's named
// exports (listed by loading it), so ESM and CommonJS users share one instance of every class: an
// `instanceof CircuitOpenError` or a Nest injection token works whichever way the package was loaded.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const entries = {
  index: './index.js',
  core: './core/index.js',
  fetch: './integrations/fetch/index.js',
  axios: './integrations/axios/index.js',
  terminus: './integrations/terminus/index.js',
  redis: './integrations/redis/index.js',
  otel: './integrations/otel/index.js',
  testing: './testing/index.js',
};

fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
for (const [name, target] of Object.entries(entries)) {
  const file = path.join(dist, target);
  if (!fs.existsSync(file)) continue;
  let names;
  try {
    names = Object.keys(require(file)).filter((n) => n !== 'default' && n !== '__esModule');
  } catch (error) {
    // An optional peer that is not installed here: fall back to the names the compiler declared.
    const src = fs.readFileSync(file, 'utf8');
    names = [...src.matchAll(/exports\.([A-Za-z_$][\w$]*) = /g)].map((m) => m[1]);
    names = [...new Set(names)].filter((n) => n !== '__esModule');
    if (names.length === 0) throw error;
  }
  const rel = '../' + target.slice(2);
  const body = [
    `import mod from '${rel}';`,
    `export const { ${names.join(', ')} } = mod;`,
    'export default mod;',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dist, 'esm', `${name}.mjs`), body);
}
