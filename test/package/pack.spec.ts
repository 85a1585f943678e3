// What `npm pack` puts in the tarball: what a user gets from npm must be whole on its own.
//
// Source maps: the build inlines the TypeScript sources into each .map (`inlineSources`), so a debugger or
// `--enable-source-maps` shows the real code without `lib/` being shipped (which would put a second,
// uncompiled copy of the library in every install) and without dropping the maps.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

interface PackedFile {
  path: string;
  size: number;
}

interface SourceMap {
  sources: string[];
  sourcesContent?: (string | null)[];
}

/** The newest modification time of a file or, recursively, of the files under a folder. */
function newest(target: string): number {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...fs.readdirSync(target).map((entry) => newest(path.join(target, entry))));
}

/** Builds dist/ when it is missing or older than what it is built from (under the shared build lock). */
function ensureBuilt(): void {
  const inputs = ['lib', 'tsconfig.build.json', 'tsconfig.json', path.join('scripts', 'build-esm.js')];
  const builtAt = fs.existsSync(path.join(ROOT, 'dist', 'esm', 'index.mjs'))
    ? fs.statSync(path.join(ROOT, 'dist', 'esm', 'index.mjs')).mtimeMs
    : 0;
  if (builtAt > Math.max(...inputs.map((i) => newest(path.join(ROOT, i))))) return;
  execFileSync('flock', ['/tmp/build.lock', 'npm', 'run', 'build'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

let files: PackedFile[];
let packed: Set<string>;

beforeAll(() => {
  ensureBuilt();
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [report] = JSON.parse(out) as [{ files: PackedFile[] }];
  files = report.files;
  packed = new Set(files.map((f) => f.path));
}, 180_000);

describe('the packed tarball', () => {
  it('ships an MIT LICENSE naming the contributors, as package.json says', () => {
    expect(packed.has('LICENSE')).toBe(true);
    const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('nestjs-breaker contributors');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
  });

  it("ships every image the README shows, so the README renders on npm's package page", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const images = [
      ...[...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => m[1]),
      ...[...readme.matchAll(/<img[^>]+src="([^"]+)"/g)].map((m) => m[1]),
    ].filter((src) => !/^[a-z]+:/i.test(src));
    expect(images).toContain('docs/dashboard.png');
    for (const image of images) {
      expect({ image, packed: packed.has(path.posix.normalize(image)) }).toEqual({ image, packed: true });
    }
  });

  it('ships source maps that need nothing outside the tarball: every source is inlined or shipped', () => {
    const maps = files.filter((f) => f.path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(50);
    const unresolved: string[] = [];
    for (const { path: mapPath } of maps) {
      const map = JSON.parse(fs.readFileSync(path.join(ROOT, mapPath), 'utf8')) as SourceMap;
      map.sources.forEach((source, i) => {
        const inlined = typeof map.sourcesContent?.[i] === 'string';
        const shipped = packed.has(path.posix.join(path.posix.dirname(mapPath), source));
        if (!inlined && !shipped) unresolved.push(`${mapPath} -> ${source}`);
      });
    }
    expect(unresolved).toEqual([]);
  });

  it('ships the built package and its documents only: no sources, tests, sample or tarballs', () => {
    const outside = [...packed].filter(
      (p) => !p.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json'].includes(p),
    );
    expect(outside.every((p) => /^docs\/[^/]+\.(png|svg)$/.test(p))).toBe(true);
    expect(
      [...packed].filter((p) => /^(lib|test|sample|bench|scripts)\//.test(p) || p.endsWith('.tgz')),
    ).toEqual([]);
    for (const entry of ['dist/index.js', 'dist/index.d.ts', 'dist/esm/index.mjs', 'dist/core/index.js'])
      expect(packed.has(entry)).toBe(true);
  });

  it('keeps packed tarballs out of git', () => {
    const ignored = execFileSync('git', ['check-ignore', '--no-index', 'nestjs-breaker-0.1.0.tgz'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(ignored.trim()).toBe('nestjs-breaker-0.1.0.tgz');
  });
});
