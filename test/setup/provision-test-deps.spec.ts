// `npm test`'s pretest (scripts/provision-test-deps.js): finds Chromium and redis-server, honours
// CHROMIUM_PATH / REDIS_SERVER, installs with apt-get as root, and otherwise stops with one line.
// "Missing" is simulated honestly with a PATH of empty temp folders (the system packages stay installed);
// the apt path runs a stand-in apt-get that records its arguments and "installs" executables on PATH.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumPath } from '../browser/support';
import { redisServerPath } from '../redis/support/redis-server';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'provision-test-deps.js');

interface Provisioned {
  code: number;
  line: string;
}
type Run = (command: string, args: string[], env: NodeJS.ProcessEnv) => number | null;

const { provision } = require(SCRIPT) as {
  provision(deps: {
    env: NodeJS.ProcessEnv;
    isRoot: boolean;
    run?: Run;
    say?: (line: string) => void;
  }): Provisioned;
};

let scratch: string;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-'));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A folder holding executables `names` (tiny shell scripts). */
function folderWith(label: string, names: string[], body = 'exit 0'): string {
  const dir = path.join(scratch, label);
  fs.mkdirSync(dir, { recursive: true });
  for (const name of names) fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

/**
 * A stand-in apt-get: logs "DEBIAN_FRONTEND args..." per call and, on `install`, puts an executable for
 * each package into `bin` (exit status `status`).
 */
function fakeAptGet(bin: string, status = 0): { dir: string; log: string } {
  const log = path.join(scratch, 'apt.log');
  const dir = folderWith(
    'apt',
    ['apt-get'],
    [
      'PATH=/usr/bin:/bin', // for chmod: the PATH it is given holds only the test's folders
      `echo "$DEBIAN_FRONTEND $*" >> '${log}'`,
      `if [ "$1" = install ] && [ ${status} = 0 ]; then`,
      '  for p in "$@"; do case "$p" in -*|install) ;; *)',
      `    printf '#!/bin/sh\\n' > '${bin}'/"$p"; chmod 755 '${bin}'/"$p";;`,
      '  esac; done',
      'fi',
      `exit ${status}`,
    ].join('\n'),
  );
  return { dir, log };
}

/** Runs the real script as `npm test` would, with only `env` (node itself by absolute path). */
function runScript(env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT], { env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('provisioning the test dependencies (pretest)', () => {
  it('stops with one line naming the apt-get command when neither is found and apt-get is not here', () => {
    const empty = folderWith('empty', []);
    const { status, stdout, stderr } = runScript({ PATH: empty });
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(stderr).toContain('npm test needs Chromium and redis-server, not found here');
    expect(stderr).toContain('apt-get install -y chromium redis-server');
    expect(stderr).toContain('or set CHROMIUM_PATH / REDIS_SERVER to the executable');
  });

  it('names a variable that points at no executable, and never looks past it', () => {
    const onPath = folderWith('bin', ['chromium', 'redis-server']);
    const { status, stderr } = runScript({ PATH: onPath, CHROMIUM_PATH: path.join(scratch, 'nowhere') });
    expect(status).toBe(1);
    expect(stderr.trim()).toBe(
      `npm test: CHROMIUM_PATH=${path.join(scratch, 'nowhere')} is not an executable file (unset it to look on PATH)`,
    );
  });

  it('takes CHROMIUM_PATH and REDIS_SERVER as given, with nothing on PATH', () => {
    const custom = folderWith('custom', ['my-chrome', 'my-redis']);
    const empty = folderWith('empty', []);
    const { status, stdout, stderr } = runScript({
      PATH: empty,
      CHROMIUM_PATH: path.join(custom, 'my-chrome'),
      REDIS_SERVER: path.join(custom, 'my-redis'),
    });
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(stdout.trim()).toBe(
      `npm test: Chromium ${path.join(custom, 'my-chrome')}, redis-server ${path.join(custom, 'my-redis')}`,
    );
  });

  it('finds them on PATH under their usual names', () => {
    const bin = folderWith('bin', ['chromium-browser', 'redis-server']);
    const { status, stdout } = runScript({ PATH: bin });
    expect(status).toBe(0);
    expect(stdout.trim()).toBe(
      `npm test: Chromium ${path.join(bin, 'chromium-browser')}, redis-server ${path.join(bin, 'redis-server')}`,
    );
  });

  it('as root with apt-get: updates, installs exactly what is missing, non-interactively, and goes on', () => {
    const bin = folderWith('bin', ['redis-server']);
    const apt = fakeAptGet(bin);
    const said: string[] = [];
    const result = provision({
      env: { PATH: [apt.dir, bin].join(path.delimiter) },
      isRoot: true,
      say: (line) => said.push(line),
    });
    expect(said).toEqual(['npm test: installing chromium with apt-get (a few minutes, once)']);
    expect(result).toEqual({
      code: 0,
      line: `npm test: Chromium ${path.join(bin, 'chromium')}, redis-server ${path.join(bin, 'redis-server')}`,
    });
    expect(fs.readFileSync(apt.log, 'utf8').trim().split('\n')).toEqual([
      'noninteractive update -qq',
      'noninteractive install -y -qq chromium',
    ]);
  });

  it('as root, when apt-get fails, stops with one line and installs nothing more', () => {
    const bin = folderWith('bin', []);
    const apt = fakeAptGet(bin, 100);
    const result = provision({
      env: { PATH: [apt.dir, bin].join(path.delimiter) },
      isRoot: true,
      say: () => undefined,
    });
    expect(result.code).toBe(1);
    expect(result.line).toBe(
      'npm test: "apt-get install -y chromium redis-server" did not provide Chromium and redis-server; install it by hand or set CHROMIUM_PATH / REDIS_SERVER',
    );
    expect(fs.readFileSync(apt.log, 'utf8').trim().split('\n')).toEqual(['noninteractive update -qq']);
  });

  it('without root, runs nothing and names the sudo command', () => {
    const bin = folderWith('bin', []);
    const apt = fakeAptGet(bin);
    const run = jest.fn<number | null, Parameters<Run>>(() => 0);
    const result = provision({ env: { PATH: [apt.dir, bin].join(path.delimiter) }, isRoot: false, run });
    expect(run).not.toHaveBeenCalled();
    expect(result).toEqual({
      code: 1,
      line: 'npm test needs Chromium and redis-server, not found here: run "sudo apt-get update && sudo apt-get install -y chromium redis-server", or set CHROMIUM_PATH / REDIS_SERVER to the executable',
    });
  });

  it('is what `npm test` runs first', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.pretest).toBe('node scripts/provision-test-deps.js');
  });
});

describe('the test helpers launch what the pretest found', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('use CHROMIUM_PATH and REDIS_SERVER when set', () => {
    const custom = folderWith('custom', ['my-chrome', 'my-redis']);
    process.env.CHROMIUM_PATH = path.join(custom, 'my-chrome');
    process.env.REDIS_SERVER = path.join(custom, 'my-redis');
    expect(chromiumPath()).toBe(path.join(custom, 'my-chrome'));
    expect(redisServerPath()).toBe(path.join(custom, 'my-redis'));
  });

  it('otherwise look on PATH, and say how to get what is missing', () => {
    delete process.env.CHROMIUM_PATH;
    delete process.env.REDIS_SERVER;
    process.env.PATH = folderWith('bin', ['chromium']);
    expect(chromiumPath()).toBe(path.join(scratch, 'bin', 'chromium'));
    expect(() => redisServerPath()).toThrow(
      'redis-server was not found on PATH (redis-server): run "npm test" once to install it, or "sudo apt-get install -y redis-server", or set REDIS_SERVER',
    );
  });
});
