// The BUILT package (dist/), installed into throw-away consumer projects, loads from CommonJS and ESM.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = ['@nestjs', 'rxjs', 'reflect-metadata'];

interface Exported {
  types?: string;
  import?: string;
  require?: string;
}

let withPeers: string;
let coreOnly: string;

/** A consumer project with node_modules/nestjs-breaker (package.json + dist) and, optionally, the peers. */
function makeConsumer(label: string, peers: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nestjs-breaker-${label}-`));
  const pkg = path.join(dir, 'node_modules', 'nestjs-breaker');
  fs.mkdirSync(pkg, { recursive: true });
  // Under the build lock: never copy a dist/ that another build is rewriting, and build it if missing.
  const script = [
    'set -e',
    'if [ ! -f dist/index.js ] || [ ! -f dist/core/index.js ] || [ ! -f dist/esm/index.mjs ] || [ ! -f dist/esm/core.mjs ]; then npm run build >&2; fi',
    `cp package.json "${pkg}/"`,
    `cp -R dist "${pkg}/dist"`,
  ].join('\n');
  execFileSync('flock', ['/tmp/build.lock', 'sh', '-c', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (const peer of peers) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', peer), path.join(dir, 'node_modules', peer), 'dir');
  }
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${label}`, private: true }),
  );
  return dir;
}

/** Runs `source` as `file` with plain node inside `dir`; returns its stdout parsed as JSON. */
function runNode(dir: string, file: string, source: string): Record<string, unknown> {
  fs.writeFileSync(path.join(dir, file), source);
  const out = execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  return JSON.parse(out) as Record<string, unknown>;
}

/** Lines shared by the scripts: trip a breaker (failureThreshold 2) and inspect the rejection. */
const TRIP = `
  const b = core.createBreaker('payment', { failureThreshold: 2 }, { clock: new core.ManualClock() });
  for (let i = 0; i < 2; i++) { try { b.executeSync(() => { throw new Error('down'); }); } catch {} }
  let rejection;
  try { b.executeSync(() => 'never'); } catch (error) { rejection = error; }
  const promised = await b.executePromise(async () => 'never').catch((error) => error);
`;

beforeAll(() => {
  withPeers = makeConsumer('app', PEERS);
  coreOnly = makeConsumer('core-only', []);
}, 180_000);

afterAll(() => {
  for (const dir of [withPeers, coreOnly]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the built package', () => {
  it("loads with require('nestjs-breaker') and require('nestjs-breaker/core') from a CommonJS consumer", () => {
    const result = runNode(
      withPeers,
      'consumer.cjs',
      `(async () => {
        const root = require('nestjs-breaker');
        const core = require('nestjs-breaker/core');
        ${TRIP}
        console.log(JSON.stringify({
          state: b.state,
          code: rejection && rejection.code,
          isCoreOpenError: rejection instanceof core.CircuitOpenError,
          isRootOpenError: rejection instanceof root.CircuitOpenError,
          promisedIsOpenError: promised instanceof core.CircuitOpenError,
          sameClass: root.CircuitOpenError === core.CircuitOpenError,
          rootHas: ['createBreaker', 'BreakerRegistry', 'CircuitState', 'BreakerConfigError'].filter((n) => n in root),
        }));
      })().catch((error) => { console.error(error); process.exit(1); });`,
    );
    expect(result).toEqual({
      state: 'open',
      code: 'ECIRCUITOPEN',
      isCoreOpenError: true,
      isRootOpenError: true,
      promisedIsOpenError: true,
      sameClass: true,
      rootHas: ['createBreaker', 'BreakerRegistry', 'CircuitState', 'BreakerConfigError'],
    });
  });

  it("loads with import('nestjs-breaker') and import 'nestjs-breaker/core' from an ESM consumer, sharing classes with require()", () => {
    const result = runNode(
      withPeers,
      'consumer.mjs',
      `import * as core from 'nestjs-breaker/core';
      import { createRequire } from 'node:module';
      const root = await import('nestjs-breaker');
      const required = createRequire(import.meta.url)('nestjs-breaker/core');
      ${TRIP}
      console.log(JSON.stringify({
        state: b.state,
        isCoreOpenError: rejection instanceof core.CircuitOpenError,
        isRootOpenError: rejection instanceof root.CircuitOpenError,
        isRequiredOpenError: rejection instanceof required.CircuitOpenError,
        promisedIsOpenError: promised instanceof root.CircuitOpenError,
        hasDefault: typeof root.default === 'object',
      }));`,
    );
    expect(result).toEqual({
      state: 'open',
      isCoreOpenError: true,
      isRootOpenError: true,
      isRequiredOpenError: true,
      promisedIsOpenError: true,
      hasDefault: true,
    });
  });

  it("runs 'nestjs-breaker/core' with no peer installed at all (no Nest, no rxjs)", () => {
    expect(fs.readdirSync(path.join(coreOnly, 'node_modules'))).toEqual(['nestjs-breaker']);
    const cjs = runNode(
      coreOnly,
      'core.cjs',
      `(async () => {
        const core = require('nestjs-breaker/core');
        ${TRIP}
        console.log(JSON.stringify({ state: b.state, open: rejection instanceof core.CircuitOpenError, promised: promised instanceof core.CircuitOpenError }));
      })().catch((error) => { console.error(error); process.exit(1); });`,
    );
    const esm = runNode(
      coreOnly,
      'core.mjs',
      `import * as core from 'nestjs-breaker/core';
      ${TRIP}
      let rxMissing = '';
      try { b.executeObservable(() => 1); } catch (error) { rxMissing = error.message; }
      console.log(JSON.stringify({ state: b.state, open: rejection instanceof core.CircuitOpenError, rxMissing }));`,
    );
    expect(cjs).toEqual({ state: 'open', open: true, promised: true });
    expect(esm).toEqual({ state: 'open', open: true, rxMissing: expect.stringMatching(/rxjs is needed/) });
  });

  it("loads 'nestjs-breaker/testing' from ESM and CommonJS with no test runner and no peer installed", () => {
    const script = `
      const names = [];
      // A runner of our own: the suite only registers tests through what it is given.
      runStateStoreContract({ describe: (name, body) => body(), it: (name) => names.push(name) }, () => {
        throw new Error('makeStore is called only when a test runs');
      });
      console.log(JSON.stringify({ tests: names.length, now: new ManualClock().now() }));`;
    const esm = runNode(
      coreOnly,
      'testing.mjs',
      `import { runStateStoreContract, ManualClock } from 'nestjs-breaker/testing';${script}`,
    );
    const cjs = runNode(
      coreOnly,
      'testing.cjs',
      `const { runStateStoreContract, ManualClock } = require('nestjs-breaker/testing');${script}`,
    );
    expect(esm).toEqual({ tests: 8, now: 0 });
    expect(cjs).toEqual(esm);
  });

  it('ships .d.ts types (and the ESM and CommonJS files) for every entry point it builds', () => {
    const pkgDir = path.join(withPeers, 'node_modules', 'nestjs-breaker');
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
      exports: Record<string, Exported | string>;
      main: string;
      types: string;
    };
    const exists = (rel: string) => fs.existsSync(path.join(pkgDir, rel));
    expect(exists(pkg.main)).toBe(true);
    expect(exists(pkg.types)).toBe(true);
    for (const entry of ['.', './core']) {
      const e = pkg.exports[entry] as Exported;
      expect([entry, exists(e.types ?? ''), exists(e.import ?? ''), exists(e.require ?? '')]).toEqual([
        entry,
        true,
        true,
        true,
      ]);
    }
    // Entry points owned by later issues: whenever one is built, it must come with its types and ESM file.
    for (const [entry, e] of Object.entries(pkg.exports)) {
      if (typeof e === 'string' || e.require === undefined || !exists(e.require)) continue;
      expect([entry, exists(e.types ?? ''), exists(e.import ?? '')]).toEqual([entry, true, true]);
    }
  });

  it.each(['node16', 'node10'])(
    'gives a TypeScript consumer typed entry points (moduleResolution %s)',
    (resolution) => {
      const dir = path.join(withPeers, `ts-${resolution}`);
      fs.mkdirSync(dir);
      fs.symlinkSync(path.join(withPeers, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      fs.writeFileSync(
        path.join(dir, 'consumer.ts'),
        `import { createBreaker, CircuitOpenError, CircuitState, type BreakerSnapshot } from 'nestjs-breaker/core';
        import { BreakerRegistry } from 'nestjs-breaker';
        const b = createBreaker('payment', { failureThreshold: 2 });
        const state: CircuitState = b.state;
        const snapshot: BreakerSnapshot = b.snapshot();
        const n: number = b.executeSync((x: number) => x * 2, 21);
        const p: Promise<string> = b.executePromise(async () => 'ok');
        const isOpen = (e: unknown): boolean => e instanceof CircuitOpenError && e.retryAfterMs >= 0;
        new BreakerRegistry({ defaults: { halfOpenAfterMs: 1_000 } });
        // @ts-expect-error an unknown option is a type error
        createBreaker('typo', { failureTreshold: 3 });
        export { state, snapshot, n, p, isOpen };
        `,
      );
      const module = resolution === 'node16' ? 'node16' : 'commonjs';
      fs.writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            module,
            moduleResolution: resolution,
            target: 'ES2022',
            lib: ['ES2022', 'DOM'],
            types: [],
            skipLibCheck: true,
            ignoreDeprecations: '5.0',
          },
          files: ['consumer.ts'],
        }),
      );
      const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      let diagnostics = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      } catch (error) {
        diagnostics = String((error as { stdout?: string }).stdout ?? error);
      }
      expect(diagnostics).toBe('');
    },
    60_000,
  );

  it('never imports @nestjs anywhere in the built core (dist/core and its ESM entry)', () => {
    const pkgDir = path.join(withPeers, 'node_modules', 'nestjs-breaker', 'dist');
    const files = [
      ...fs
        .readdirSync(path.join(pkgDir, 'core'), { recursive: true })
        .map((f) => path.join('core', String(f))),
      path.join('esm', 'core.mjs'),
    ].filter((f) => /\.(js|mjs|d\.ts)$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((f) => fs.readFileSync(path.join(pkgDir, f), 'utf8').includes('@nestjs'));
    expect(offenders).toEqual([]);
  });
});
