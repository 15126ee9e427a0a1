// Fallbacks that Node itself cannot run under, checked on the addon's C core linked into a plain
// program (test/helpers/core/core-spawn.c), and the CLONE_VM probe with a clone() that does not
// share memory (test/helpers/preload/clone-novm.c) (TESTPLAN I2, I4); and the fork backend's
// go-ahead byte, which must not raise SIGPIPE.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { support } from '../../dist/index.js';
import { helperBin, pass, root } from '../helpers/index.js';

const launcher = join(helperBin, 'seccomp-launcher');
const coreSpawn = join(helperBin, 'core-spawn');
const novm = join(helperBin, 'clone-novm.so');
const EPERM = 1;
const ENOENT = 2;
const EFAULT = 14;
const ENOSYS = 38;

/** The environment of this pass without a forced backend: these tests are about the choice. */
/** LD_PRELOAD with `lib` after what is there already (the sanitizer runtime must stay first). */
function preloadAlso(lib) {
  return [process.env.LD_PRELOAD, lib].filter(Boolean).join(' ');
}

function unforcedEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.PIDFD_BACKEND;
  return env;
}

/** Runs a command (optionally under seccomp rules) and parses the JSON it prints. */
function report(command, { rules = [], env = unforcedEnv() } = {}) {
  const argv = rules.length > 0 ? [launcher, ...rules, '--', ...command] : command;
  const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', env, timeout: 20000 });
  return JSON.parse(out);
}

/** The checks every core-spawn spawn must pass: exit 3 reaped by pidfd, a missing program. */
function assertSpawns(r, backend) {
  assert.deepEqual(r.spawned, { backend, ok: 1, reaped: 1, samePid: 1, exited: 1, status: 3 });
  assert.deepEqual(r.missing, { backend, ok: 0, errno: ENOENT, syscall: 'execve', step: 15, pidfd: -1 });
  assert.equal(r.children, 0, 'no child left');
  assert.equal(r.fdsLeft, '', 'no fd left');
}

describe('I2: clone3 refused with EPERM (older container profiles), where Node cannot run', () => {
  test('the probe records EPERM for clone3 and picks clone; spawns work and leave nothing', () => {
    const r = report([coreSpawn, 'spawn'], { rules: ['clone3=1'] });
    assert.deepEqual(r.support.clone3, { ok: 0, errno: EPERM, probed: 1 });
    assert.equal(r.support.backend, 'clone');
    assert.deepEqual(r.support.cloneSpawn, { ok: 1, errno: 0, probed: 1 });
    assertSpawns(r, 'clone');
  });

  test('a filter that arrives after the probe: the clone3 spawn fails cleanly, demotion to clone works', (t) => {
    if (pass === 'seccomp-enosys') return t.skip("this pass's filter already refuses clone3 at the probe");
    const r = report([coreSpawn, 'demote']);
    assert.equal(r.probedBackend, 'clone3');
    assert.equal(r.filter, 0, 'the EPERM filter was installed');
    // What js_api.c does with it: pf_spawn fails with nothing left, then demote and retry.
    assert.deepEqual(r.first, { backend: 'clone3', ok: 0, errno: EPERM, syscall: 'clone3', step: -1, pidfd: -1 });
    assert.equal(r.demotedTo, 'clone');
    assert.equal(r.current, 'clone', 'the process stays on clone');
    assert.deepEqual(r.retry, { backend: 'clone', ok: 1, reaped: 1, samePid: 1, exited: 1, status: 3 });
    assert.equal(r.children, 0);
    assert.equal(r.fdsLeft, '');
  });
});

describe('I4: the CLONE_VM probe', () => {
  test('support() reports whether CLONE_VM shares memory here', () => {
    const { vmShared } = support().features;
    if (support().backend === 'fork') {
      assert.equal(vmShared.available, false);
      assert.match(vmShared.reason, /not probed: the fork backend does not use CLONE_VM/);
    } else {
      assert.deepEqual(vmShared, { available: true, reason: null, since: '' });
    }
  });

  test('a clone() whose child gets a copy of memory is refused by the probe; fork is used', () => {
    const r = report([coreSpawn, 'spawn'], { rules: ['clone3=38'], env: unforcedEnv({ LD_PRELOAD: preloadAlso(novm) }) });
    assert.deepEqual(r.support.clone3, { ok: 0, errno: ENOSYS, probed: 1 });
    assert.deepEqual(r.support.cloneSpawn, { ok: 0, errno: EFAULT, probed: 1 }, 'the clone probe child ran, in a copy');
    assert.deepEqual(r.support.vmShared, { ok: 0, errno: EFAULT, probed: 1 });
    assert.equal(r.support.backend, 'fork');
    assertSpawns(r, 'fork');
  });

  test('support() in Node says why clone was refused, and spawn() still works with fork', () => {
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

describe('the fork backend: the go-ahead byte to the child', () => {
  test(
    'never raises SIGPIPE in the parent, even when the child is already gone (1000 probes)',
    () => {
      // The probe child exits without reading the byte: a plain write() could hit a closed socket.
      // SIGPIPE blocked in the C core's host: a raised one stays pending, and is counted.
      const r = report([coreSpawn, 'sigpipe', '1000']);
      assert.equal(r.failed, 0);
      assert.equal(r.sigpipes, 0, `${r.sigpipes} of 1000 probes raised SIGPIPE`);
      assert.equal(r.children, 0);
      assert.equal(r.fdsLeft, '');
    },
  );
});
