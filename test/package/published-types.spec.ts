// The BUILT package's types (dist/**/*.d.ts) show the public API only: none of the engine's internals.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const INTERNALS = [
  'acquire',
  'readmit',
  'giveBack',
  'onSuccess',
  'onFailure',
  'onIgnored',
  'onCancel',
  'fastOk',
  'fastErr',
  'fastPermit',
  'runPromise',
  'runObservable',
  'waitSignal',
  'callPolicy',
  'decideLocally',
  'fleetProbe',
];

let consumer: string;

beforeAll(() => {
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-breaker-types-'));
  const pkg = path.join(consumer, 'node_modules', 'nestjs-breaker');
  fs.mkdirSync(pkg, { recursive: true });
  // Under the build lock shared with load.spec.ts: never read a dist/ that another build is rewriting.
  const script = [
    'set -e',
    'if [ ! -f dist/index.js ] || [ ! -f dist/core/index.d.ts ] || [ ! -f dist/esm/core.mjs ]; then npm run build >&2; fi',
    `cp package.json "${pkg}/"`,
    `cp -R dist "${pkg}/dist"`,
  ].join('\n');
  execFileSync('flock', ['/tmp/build.lock', 'sh', '-c', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'rxjs'), path.join(consumer, 'node_modules', 'rxjs'), 'dir');
  fs.symlinkSync(
    path.join(ROOT, 'node_modules', '@types'),
    path.join(consumer, 'node_modules', '@types'),
    'dir',
  );
}, 180_000);

afterAll(() => {
  if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
});

describe('the published types', () => {
  it('list no engine internal in the Breaker declaration', () => {
    const declaration = fs.readFileSync(
      path.join(consumer, 'node_modules', 'nestjs-breaker', 'dist', 'core', 'breaker.d.ts'),
      'utf8',
    );
    expect(declaration).toContain('executePromise');
    const listed = INTERNALS.filter((name) => new RegExp(`\\b${name}\\b`).test(declaration));
    expect(listed).toEqual([]);
  });

  it('let a consumer use the public API, and refuse the internals (strict, skipLibCheck off)', () => {
    const file = [
      "import { createBreaker, BreakerCallbackError, CircuitOpenError, type Breaker } from 'nestjs-breaker/core';",
      "const b: Breaker = createBreaker('payment', { failureThreshold: 3, window: { type: 'count', size: 10 } });",
      'export const run = (): Promise<number> => b.executePromise(async () => 1);',
      'export const state: string = b.snapshot().state;',
      "export const reason: 'open' | 'throttled' = new CircuitOpenError('p', b.state, 0).reason;",
      "export const code: 'EBREAKERCALLBACK' = new BreakerCallbackError('p', 'isFailure', 1, 2).code;",
      ...INTERNALS.map((name) => `// @ts-expect-error -- internal\nexport const ${name}_ = b.${name};`),
      '',
    ].join('\n');
    fs.writeFileSync(path.join(consumer, 'use.ts'), file);
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['use.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', consumer], {
        cwd: consumer,
        encoding: 'utf8',
        timeout: 170_000,
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toBe('');
  }, 180_000);
});
