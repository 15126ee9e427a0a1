// support(): feature probes and backend choice, normally, when forced, and under seccomp
// filters like a container's (TESTPLAN I1, I3, H6).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn, SpawnError, support } from '../dist/index.js';
import { collect, helperBin, pass, root, thrown } from './helpers/index.js';

const launcher = join(helperBin, 'seccomp-launcher');

/** Runs a small ESM script in a fresh Node (optionally under seccomp rules) and parses its JSON. */
function runScript(body, { rules = [], env = {} } = {}) {
  const script = `import * as pidfd from ${JSON.stringify(`${root}/dist/index.js`)};\n${body}`;
  const command = [process.execPath, '--input-type=module', '-e', script];
  const [file, ...args] = rules.length > 0 ? [launcher, ...rules, '--', ...command] : command;
  const out = execFileSync(file, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20000 });
  return JSON.parse(out);
}

const expectedBackend = { default: 'clone3', clone: 'clone', fork: 'fork', 'seccomp-enosys': 'clone' }[pass];

describe('support()', () => {
  test('I3: reports the backend this pass uses, with a reason', () => {
    const s = support();
    assert.equal(s.platform, 'linux');
    assert.match(s.kernel, /^\d+\.\d+/);
    assert.equal(s.backend, expectedBackend);
    assert.equal(typeof s.reason, 'string');
    assert.ok(s.reason.length > 10);
    assert.equal(s.forced, process.env.PIDFD_BACKEND ?? null);
  });

  test('I3: the minimum features are there, and every missing feature says why', () => {
    const { features } = support();
    assert.equal(features.pidfdOpen.available, true);
    assert.equal(features.waitidPidfd.available, true);
    for (const [name, feature] of Object.entries(features)) {
      assert.equal(typeof feature.available, 'boolean', name);
      if (feature.available) assert.equal(feature.reason, null, name);
      else assert.ok(feature.reason.length > 0, `${name} says why it is missing`);
    }
  });

  test('I3: the probes run once; later calls give the same answers', () => {
    assert.deepEqual(support(), support());
  });

  test('I1: under a clone3→ENOSYS filter, clone is used and says why; children still get pidfds', async (t) => {
    if (pass !== 'seccomp-enosys') return t.skip('only in the seccomp-enosys pass of npm test');
    const s = support();
    assert.equal(s.backend, 'clone');
    assert.equal(s.features.clone3.available, false);
    assert.match(s.features.clone3.reason, /ENOSYS|seccomp/);
    assert.match(s.reason, /clone3/);
    const sub = spawn('/bin/sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    assert.match(readFileSync(`/proc/self/fdinfo/${sub.pidfd.fd}`, 'latin1'), new RegExp(`Pid:\\s+${sub.pid}`));
    assert.equal((await sub.exited).code, 3);
  });

  test('I1: a clone3→ENOSYS filter is detected by a fresh process too (the same probe, from scratch)', () => {
    const result = runScript(
      `const sub = pidfd.spawn('/bin/true', [], { stdio: 'ignore' });
       const status = await sub.exited;
       console.log(JSON.stringify({ support: pidfd.support(), code: status.code }));`,
      { rules: ['clone3=38'] },
    );
    assert.equal(result.code, 0);
    assert.equal(result.support.backend, result.support.forced ?? 'clone');
  });

  test('H6: asking for a cgroup without clone3 is a clear ENOTSUP, and other spawns still work', () => {
    const result = runScript(
      `let error;
       try { pidfd.spawn('/bin/true', [], { cgroup: '/sys/fs/cgroup', stdio: 'ignore' }); }
       catch (e) { error = { name: e.name, code: e.code, syscall: e.syscall, message: e.message }; }
       const sub = pidfd.spawn('/bin/sh', ['-c', 'exit 6'], { stdio: 'ignore' });
       console.log(JSON.stringify({ error, code: (await sub.exited).code }));`,
      { rules: ['clone3=38'], env: { PIDFD_BACKEND: '' } },
    );
    assert.equal(result.error.name, 'SpawnError');
    assert.equal(result.error.code, 'ENOTSUP');
    assert.equal(result.error.syscall, 'clone3');
    assert.match(result.error.message, /clone3/);
    assert.equal(result.code, 6);
  });

  test('I3: an unknown PIDFD_BACKEND makes spawn fail with ENOSYS and the reason', () => {
    const result = runScript(
      `let error;
       try { pidfd.spawn('/bin/true', [], { stdio: 'ignore' }); }
       catch (e) { error = { code: e.code, message: e.message }; }
       console.log(JSON.stringify({ error, support: pidfd.support() }));`,
      { env: { PIDFD_BACKEND: 'vfork-please' } },
    );
    assert.equal(result.support.backend, null);
    assert.match(result.support.reason, /PIDFD_BACKEND=vfork-please is not one of clone3, clone, fork/);
    assert.equal(result.error.code, 'ENOSYS');
    assert.match(result.error.message, /PIDFD_BACKEND=vfork-please/);
  });

  test('I3: without pidfd_open nothing can spawn, and the error says so', () => {
    const result = runScript(
      `let error;
       try { pidfd.spawn('/bin/true', [], { stdio: 'ignore' }); }
       catch (e) { error = { code: e.code, message: e.message }; }
       console.log(JSON.stringify({ error, support: pidfd.support() }));`,
      { rules: ['pidfd_open=38'], env: { PIDFD_BACKEND: '' } },
    );
    assert.equal(result.support.backend, null);
    assert.equal(result.support.features.pidfdOpen.available, false);
    assert.match(result.support.reason, /pidfd_open/);
    assert.equal(result.error.code, 'ENOSYS');
    assert.match(result.error.message, /pidfd_open/);
  });

  test('without close_range (Linux < 5.9) the child still closes every fd it was not given', () => {
    const result = runScript(
      `import { openSync } from 'node:fs';
       const extra = openSync('/dev/null', 'r'); // an inheritable fd the child must not see
       const sub = pidfd.spawn('/bin/sh', ['-c', 'ls /proc/$$/fd']);
       let out = ''; sub.stdout.setEncoding('utf8').on('data', (d) => (out += d));
       await Promise.all([sub.exited, new Promise((r) => sub.stdout.on('close', r))]);
       console.log(JSON.stringify({ extra, fds: out.split(/\\s+/).filter(Boolean).map(Number).sort((a, b) => a - b),
         closeRange: pidfd.support().features.closeRange.available }));`,
      { rules: ['close_range=38'] },
    );
    assert.equal(result.closeRange, false);
    assert.ok(result.extra > 2);
    // 0-2, plus the fd the shell's `ls` listing itself uses; never the parent's extra fd.
    assert.ok(!result.fds.includes(result.extra), `fd ${result.extra} leaked: ${result.fds}`);
    assert.deepEqual(result.fds.slice(0, 3), [0, 1, 2]);
  });
});

test('off Linux, the package imports, support() says why, and every call fails with ENOSYS', () => {
  // process.platform is what the library consults; a stand-in for running on another OS.
  const script = `Object.defineProperty(process, 'platform', { value: 'darwin' });
    const pidfd = await import(${JSON.stringify(`${root}/dist/index.js`)});
    const codes = [];
    for (const call of [() => pidfd.spawn('true'), () => pidfd.PidFd.open(1), () => pidfd.PidFd.self()]) {
      try { call(); codes.push('no error'); } catch (e) { codes.push(e.code + ': ' + e.message); }
    }
    console.log(JSON.stringify({ support: pidfd.support(), codes }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const { support: s, codes } = JSON.parse(out);
  assert.equal(s.backend, null);
  assert.match(s.reason, /only on Linux \(this is darwin\)/);
  assert.equal(s.features.pidfdOpen.available, false);
  for (const line of codes) assert.match(line, /^ENOSYS: pidfd: process file descriptors exist only on Linux/);
});

describe('forced backends', () => {
  test('each backend can be forced with PIDFD_BACKEND and then runs children', async () => {
    for (const backend of pass === 'seccomp-enosys' ? ['clone', 'fork'] : ['clone3', 'clone', 'fork']) {
      const result = runScript(
        `const sub = pidfd.spawn('/bin/sh', ['-c', 'echo $0'], { argv0: 'named' });
         let out = ''; sub.stdout.setEncoding('utf8').on('data', (d) => (out += d));
         const [status] = await Promise.all([sub.exited, new Promise((r) => sub.stdout.on('close', r))]);
         console.log(JSON.stringify({ backend: pidfd.support().backend, code: status.code, out }));`,
        { env: { PIDFD_BACKEND: backend } },
      );
      assert.deepEqual(result, { backend, code: 0, out: 'named\n' });
    }
  });

  test('forcing clone3 where clone3 is filtered fails clearly instead of falling back', () => {
    const result = runScript(
      `let error;
       try { pidfd.spawn('/bin/true', [], { stdio: 'ignore' }); }
       catch (e) { error = { code: e.code, message: e.message }; }
       console.log(JSON.stringify({ error, support: pidfd.support() }));`,
      { rules: ['clone3=38'], env: { PIDFD_BACKEND: 'clone3' } },
    );
    assert.equal(result.support.backend, null);
    assert.match(result.support.reason, /PIDFD_BACKEND=clone3, but that backend cannot be used/);
    assert.equal(result.error.code, 'ENOSYS');
  });
});

test('the main example runs', async () => {
  const sub = spawn(process.execPath, [join(root, 'examples', 'spawn.mjs')]);
  const { status, stdout } = await collect(sub);
  assert.equal(status.code, 0);
  assert.match(stdout, /exited with code 0/);
});
