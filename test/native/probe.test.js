// Backend choice and fallbacks (native/probe.c, clone.c): the probes under seccomp filters like a
// container's, PIDFD_BACKEND, the demotion from clone3 at run time, and the CLONE_VM probe. What
// Node itself cannot run under is checked on the C core linked into a plain program
// (test/helpers/core/core-spawn.c) (case ids from docs/reliability.md: I1-I4).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn, support } from '../../dist/index.js';
import { GUARD_MS, helperBin, pass, root, runScript } from '../helpers/index.js';

const launcher = join(helperBin, 'seccomp-launcher');
const coreSpawn = join(helperBin, 'core-spawn');
const novm = join(helperBin, 'clone-novm.so');
const EPERM = 1;
const ENOENT = 2;
const EFAULT = 14;
const ENOSYS = 38;

/** A script for runScript(): one spawn, then the error it threw (if any) and support(). */
const TRY_SPAWN = `let error;
  try { pidfd.spawn('/bin/true', [], { stdio: 'ignore' }); }
  catch (e) { error = { code: e.code, message: e.message }; }
  console.log(JSON.stringify({ error, support: pidfd.support() }));`;

/** LD_PRELOAD with `lib` after what is there already (the sanitizer runtime must stay first). */
function preloadAlso(lib) {
  return [process.env.LD_PRELOAD, lib].filter(Boolean).join(' ');
}

/** The environment of this pass without a forced backend: these tests are about the choice. */
function unforcedEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.PIDFD_BACKEND;
  return env;
}

/** Runs a command (optionally under seccomp rules) and parses the JSON it prints. */
function report(command, { rules = [], env = unforcedEnv() } = {}) {
  const argv = rules.length > 0 ? [launcher, ...rules, '--', ...command] : command;
  const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', env, timeout: GUARD_MS, killSignal: 'SIGKILL' });
  return JSON.parse(out);
}

/** The checks every core-spawn spawn must pass: exit 3 reaped by pidfd, a missing program. */
function assertSpawns(r, backend) {
  assert.deepEqual(r.spawned, { backend, ok: 1, reaped: 1, samePid: 1, exited: 1, status: 3 });
  assert.deepEqual(r.missing, { backend, ok: 0, errno: ENOENT, syscall: 'execve', step: 'exec', pidfd: -1 });
  assert.equal(r.children, 0, 'no child left');
  assert.equal(r.fdsLeft, '', 'no fd left');
}

describe('probe.c: clone3 refused with EPERM (I2, older container profiles), where Node cannot run', () => {
  test('I2: the probe records EPERM for clone3 and picks clone; spawns work and leave nothing', () => {
    const r = report([coreSpawn, 'spawn'], { rules: ['clone3=1'] });
    assert.deepEqual(r.support.clone3, { ok: 0, errno: EPERM, probed: 1 });
    assert.equal(r.support.backend, 'clone');
    assert.deepEqual(r.support.cloneSpawn, { ok: 1, errno: 0, probed: 1 });
    assertSpawns(r, 'clone');
  });

  test('I2: a filter that arrives after the probe: the clone3 spawn fails cleanly, demotion to clone works', (t) => {
    if (pass === 'seccomp-enosys') return t.skip("this pass's filter already refuses clone3 at the probe");
    const r = report([coreSpawn, 'demote']);
    assert.equal(r.probedBackend, 'clone3');
    assert.equal(r.filter, 0, 'the EPERM filter was installed');
    // A raw clone3 spawn fails with nothing left; pf_start (what the addon calls) then demotes
    // to clone and retries on its own, and the process stays on clone.
    assert.deepEqual(r.first, { backend: 'clone3', ok: 0, errno: EPERM, syscall: 'clone3', step: 'clone', pidfd: -1 });
    assert.deepEqual(r.start, { ok: 1, backend: 'clone', out: 'started', status: 0 });
    assert.equal(r.current, 'clone', 'the process stays on clone');
    assert.equal(r.children, 0);
    assert.equal(r.fdsLeft, '');
  });
});

describe('probe.c: the CLONE_VM probe (I4)', () => {
  test('I4: support() reports whether CLONE_VM shares memory here', () => {
    const { vmShared } = support().features;
    if (support().backend === 'fork') {
      assert.equal(vmShared.available, false);
      assert.match(vmShared.reason, /not probed: the fork backend does not use CLONE_VM/);
    } else {
      assert.deepEqual(vmShared, { available: true, reason: null, since: '' });
    }
  });

  test('I4: a clone() whose child gets a copy of memory is refused by the probe; fork is used', () => {
    const r = report([coreSpawn, 'spawn'], { rules: ['clone3=38'], env: unforcedEnv({ LD_PRELOAD: preloadAlso(novm) }) });
    assert.deepEqual(r.support.clone3, { ok: 0, errno: ENOSYS, probed: 1 });
    assert.deepEqual(r.support.cloneSpawn, { ok: 0, errno: EFAULT, probed: 1 }, 'the clone probe child ran, in a copy');
    assert.deepEqual(r.support.vmShared, { ok: 0, errno: EFAULT, probed: 1 });
    assert.equal(r.support.backend, 'fork');
    assertSpawns(r, 'fork');
  });

  test('I4: support() in Node says why clone was refused, and spawn() still works with fork', () => {
    const script = `import * as pidfd from ${JSON.stringify(`${root}/dist/index.js`)};
      const s = pidfd.support();
      const sub = pidfd.spawn('/bin/sh', ['-c', 'exit 3'], { stdio: 'ignore' });
      const code = (await sub.exited).code;
      console.log(JSON.stringify({ backend: s.backend, reason: s.reason, vmShared: s.features.vmShared, code }));`;
    const r = report([process.execPath, '--input-type=module', '-e', script], {
      rules: ['clone3=38'],
      env: unforcedEnv({ LD_PRELOAD: preloadAlso(novm) }),
    });
    assert.equal(r.backend, 'fork');
    assert.equal(r.vmShared.available, false);
    assert.match(r.vmShared.reason, /CLONE_VM does not share memory/);
    assert.match(r.reason, /CLONE_VM does not share memory/);
    assert.equal(r.code, 3);
  });
});

describe('probe.c: clone3 refused with ENOSYS (I1, Docker\'s default profile)', () => {
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
    // The probe itself, whichever backend this pass forces.
    assert.equal(result.support.features.clone3.available, false);
    assert.match(result.support.features.clone3.reason, /ENOSYS/);
    assert.equal(result.support.backend, result.support.forced ?? 'clone');
  });
});

describe('probe.c: PIDFD_BACKEND and what cannot spawn at all (I3)', () => {
  test('I3: each backend can be forced with PIDFD_BACKEND and then runs children', async () => {
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

  test('I3: forcing clone3 where clone3 is filtered fails clearly instead of falling back', () => {
    const result = runScript(
      TRY_SPAWN,
      { rules: ['clone3=38'], env: { PIDFD_BACKEND: 'clone3' } },
    );
    assert.equal(result.support.backend, null);
    assert.match(result.support.reason, /PIDFD_BACKEND=clone3, but that backend cannot be used/);
    assert.equal(result.error.code, 'ENOSYS');
  });

  test('I3: an unknown PIDFD_BACKEND makes spawn fail with ENOSYS and the reason', () => {
    const result = runScript(
      TRY_SPAWN,
      { env: { PIDFD_BACKEND: 'vfork-please' } },
    );
    assert.equal(result.support.backend, null);
    assert.match(result.support.reason, /PIDFD_BACKEND=vfork-please is not one of clone3, clone, fork/);
    assert.equal(result.error.code, 'ENOSYS');
    assert.match(result.error.message, /PIDFD_BACKEND=vfork-please/);
  });

  test('I3: without pidfd_open nothing can spawn, and the error says so', () => {
    const result = runScript(
      TRY_SPAWN,
      { rules: ['pidfd_open=38'], env: { PIDFD_BACKEND: '' } },
    );
    assert.equal(result.support.backend, null);
    assert.equal(result.support.features.pidfdOpen.available, false);
    assert.match(result.support.reason, /pidfd_open/);
    assert.equal(result.error.code, 'ENOSYS');
    assert.match(result.error.message, /pidfd_open/);
  });
});
