// The package where pidfds cannot exist: a child process that believes it runs on macOS or
// Windows (test/fixtures/platform/pretend.mjs redefines process.platform, and records any load
// of a native addon) imports the package and the drop-in, and uses each layer. No macOS or
// Windows machine runs these tests: this is as far as Linux can pretend (docs/runtimes.md).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { support } from '../dist/index.js';
import { fixtures, helperBin, pass, root } from './helpers/index.js';
import { waitDead } from './run/helpers.js';

const pretend = join(fixtures, 'platform', 'pretend.mjs');
const check = join(fixtures, 'platform', 'check.mjs');

function pretending(platform, env = {}) {
  const out = execFileSync(process.execPath, ['--import', pretend, check], {
    env: { ...process.env, PIDFD_ENGINE: undefined, PIDFD_PRETEND_PLATFORM: platform, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('a process that believes it is on another platform', () => {
  for (const platform of ['darwin', 'win32']) {
    test(`on ${platform}: run(), $, runSync(), $.sync and the drop-in work on Node's child_process; spawn() and PidFd refuse with ENOSYS; nothing reaches the addon`, () => {
      const seen = pretending(platform);
      assert.equal(seen.platform, platform);
      assert.deepEqual(seen.dlopens, [], 'no native addon was loaded');
      assert.equal(seen.engines.run.name, 'portable');
      assert.match(seen.engines.run.reason, new RegExp(`only on Linux \\(this is ${platform}\\)`));
      assert.equal(seen.engines.childProcess.name, 'portable');
      assert.deepEqual(seen.engines.spawn, { name: 'pidfd', available: false, reason: `pidfd works only on Linux (this is ${platform})` });
      assert.equal(seen.support.backend, null);
      assert.deepEqual(seen.run, { stdout: 'ran x', exitCode: 0, subprocess: true });
      assert.equal(seen.dollar, 3);
      assert.deepEqual(seen.runSync, { stdout: 'ran y', exitCode: 2, message: `Command failed with exit code 2: node -e 'process.stdout.write("ran " + process.argv[1]); process.exit(2)' y` }, 'runSync() runs through spawnSync');
      assert.equal(seen.dollarSync, 'sync', '$.sync too');
      assert.equal(seen.syncTimeout, true, "runSync()'s timeout is spawnSync's");
      assert.equal(seen.syncAll, 'ERR_PIDFD_UNSUPPORTED', "`all` in runSync() is refused: spawnSync cannot interleave the two streams");
      assert.equal(seen.limits, 'ERR_PIDFD_UNSUPPORTED', 'tree limits need a per-run cgroup: refused, not ignored');
      assert.equal(seen.shell, platform === 'win32' ? 'ERR_PIDFD_UNSUPPORTED' : 'ran', '`shell: true` is /bin/sh, which Windows lacks');
      assert.equal(seen.extraFd, platform === 'win32' ? 'ERR_PIDFD_UNSUPPORTED' : 'fd 3 renamed', 'stdio[3+] and argv0 reach the child (Windows passes no fd above 2)');
      assert.equal(seen.uid, platform === 'win32' ? 'ERR_PIDFD_UNSUPPORTED' : 'ran', '`uid` is set (Windows has no uid)');
      assert.equal(seen.spawn, 'ENOSYS');
      assert.equal(seen.pidfdOpen, 'ENOSYS');
      assert.equal(seen.dropIn, 'drop-in');
      assert.equal(seen.registered, false, 'register changes nothing here, and says so');
      assert.equal(seen.builtinUnchanged, true, "node:child_process's spawn is still Node's own");
    });
  }

  test('NODE_DEBUG=pidfd says which engine and why, and that register installed nothing', () => {
    const r = spawnSync(process.execPath, ['--import', pretend, '--import', 'pidfd/register', '-e', "await (await import('pidfd')).run('true')"], {
      env: { ...process.env, PIDFD_ENGINE: undefined, PIDFD_PRETEND_PLATFORM: 'darwin', NODE_DEBUG: 'pidfd' },
      encoding: 'utf8',
      cwd: root,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^PIDFD \d+: engine: portable \(process file descriptors exist only on Linux \(this is darwin\): Node's child_process is used\)$/m);
    assert.match(r.stderr, /^PIDFD \d+: register: child_process stays Node's own: process file descriptors exist only on Linux/m);
  });
});

describe('pidfd run where it believes it is on macOS', () => {
  const cli = (args) =>
    spawnSync(process.execPath, ['--import', pretend, join(root, 'dist', 'cli', 'main.js'), 'run', ...args], {
      env: { ...process.env, PIDFD_ENGINE: undefined, PIDFD_PRETEND_PLATFORM: 'darwin' },
      encoding: 'utf8',
    });

  test('exits as the command did, 127 for a missing one, 124 after --timeout (as timeout(1)), with the tree killed', async () => {
    assert.equal(cli(['--', 'sh', '-c', 'exit 3']).status, 3);
    const missing = cli(['--', 'no-such-program-here']);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /ENOENT/);
    const timed = cli(['--timeout', '0.3', '--', 'sh', '-c', 'sleep 1000 & echo $!; wait']);
    assert.equal(timed.status, 124);
    const grandchild = Number(timed.stdout);
    assert.ok(grandchild > 0);
    await waitDead(grandchild, 'the grandchild, killed with the group');
  });

  test('--memory-max is refused: limits need a per-run cgroup', () => {
    const r = cli(['--memory-max', '64M', '--', 'true']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cgroup/);
  });
});

describe('pidfd/register where the portable engine is chosen', () => {
  const script = `
    import cp from 'node:child_process';
    const { isRegistered } = await import('pidfd/register');
    const out = cp.execFileSync('echo', ['through']).toString().trim();
    const child = cp.spawn('true');
    const handle = child._handle.constructor.name; // Node's Process, or pidfd's ProcessHandle
    await new Promise((resolve) => child.on('exit', resolve));
    console.log(JSON.stringify({ out, registered: isRegistered(), pid: typeof child.pid, handle }));`;
  const seen = (prefix, env) => {
    const argv = [...prefix, process.execPath, '--import', 'pidfd/register', '--input-type=module', '-e', script];
    // PIDFD_BACKEND (the clone and fork passes) would keep the pidfd engine where it cannot work.
    const r = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, PIDFD_ENGINE: undefined, PIDFD_BACKEND: undefined, ...env }, encoding: 'utf8', cwd: root });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  test('forced (PIDFD_ENGINE=portable): nothing is installed, and child_process is Node\'s own', () => {
    assert.deepEqual(seen([], { PIDFD_ENGINE: 'portable' }), { out: 'through', registered: false, pid: 'number', handle: 'Process' });
  });

  test('a Linux that refuses every pidfd path: the installed functions pass every call to Node\'s own, and isRegistered() says false', () => {
    const launcher = [join(helperBin, 'seccomp-launcher'), 'clone3=38', 'pidfd_open=38', 'clone:pidfd=38', '--'];
    assert.deepEqual(seen(launcher, {}), { out: 'through', registered: false, pid: 'number', handle: 'Process' });
  });

  test('on the pidfd engine it is registered, and children are pidfd\'s', () => {
    const s = support();
    if (s.engines.childProcess.name !== 'pidfd') return; // the portable passes
    assert.deepEqual(seen([], {}), { out: 'through', registered: true, pid: 'number', handle: 'ProcessHandle' });
  });
});

describe('a Linux where no pidfd backend works', () => {
  test('run() uses the portable engine by itself, and support() says why (the seccomp-nopidfd pass)', { skip: pass !== 'seccomp-nopidfd' && 'only in the seccomp-nopidfd pass' }, () => {
    const s = support();
    assert.equal(s.backend, null);
    assert.equal(s.engines.run.name, 'portable');
    assert.match(s.engines.run.reason, /^no pidfd backend works here \(pidfd_open is unavailable/);
    assert.equal(s.engines.spawn.available, false);
  });
});
