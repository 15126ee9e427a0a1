// Linux 7.1's clone3 flags and what stands in for them elsewhere, on whatever kernel runs the
// tests: this machine's, and each kernel of `npm run test:kernels` (5.10, 6.1, 6.12, 7.2), where
// the 7.1 cases run for real. Each case that needs a flag says so when the kernel lacks it.
//
//  - support() reports CLONE_AUTOREAP, CLONE_PIDFD_AUTOKILL and CLONE_NNP as the kernel has them;
//  - noNewPrivileges holds on every kernel and every backend (CLONE_NNP, or prctl in the child);
//  - autoReap children survive a waitpid(-1) loop in the same process, status intact;
//  - killOnParentExit children die with a SIGKILLed parent; on 7.1+ through
//    CLONE_PIDFD_AUTOKILL, so that a worker thread that spawns and ends does not kill them.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { PidFd, spawn, support } from '../../dist/index.js';
import { collect, fixtures, helperBin, procStatus, withTimeout, inMask } from '../helpers/index.js';

const s = support();
const [major, minor] = release().split('.').map(Number);
const has71 = major > 7 || (major === 7 && minor >= 1);
const root = process.getuid() === 0;

describe('support(): the 7.1 clone3 flags', () => {
  test('are reported as the kernel has them, each with its reason', () => {
    const flags = { autoReap: 'CLONE_AUTOREAP', pidfdAutoKill: 'CLONE_PIDFD_AUTOKILL', cloneNnp: 'CLONE_NNP' };
    for (const [name, flag] of Object.entries(flags)) {
      const f = s.features[name];
      assert.equal(f.since, '7.1', name);
      if (has71 && s.backend === 'clone3' && (name !== 'pidfdAutoKill' || root)) {
        assert.deepEqual(f, { available: true, reason: null, since: '7.1' }, name);
      } else {
        assert.equal(f.available, false, name);
        assert.ok(f.reason.includes(flag), `${name}: ${f.reason}`);
      }
    }
  });
});

describe('support(): reasons', () => {
  test('every feature this kernel lacks says why in words, with the version it needs', () => {
    // On 5.10 and 6.1 the pidfs and PIDFD_INFO_EXIT probes see EOPNOTSUPP, which errnoName
    // calls ENOTSUP: the reason once fell through to "the probe failed with ENOTSUP".
    for (const [name, f] of Object.entries(s.features)) {
      if (f.available || name === 'perRunCgroup') continue;
      assert.doesNotMatch(f.reason, /the probe failed with/, name);
    }
  });
});

describe('noNewPrivileges', () => {
  for (const backend of [undefined, 'clone3', 'clone', 'fork']) {
    test(`holds in the child${backend ? ` (${backend} backend)` : ''}, and is inherited as it is without it`, async (t) => {
      if (backend === 'clone3' && s.backend !== 'clone3') return t.skip(`the backend here is ${s.backend}`);
      const read = async (noNewPrivileges) => {
        const sub = spawn('/bin/grep', ['^NoNewPrivs', '/proc/self/status'], { stdio: ['ignore', 'pipe', 'pipe'], backend, noNewPrivileges });
        const { status, stdout } = await collect(sub);
        assert.equal(status.code, 0);
        return stdout.trim();
      };
      assert.equal(await read(true), 'NoNewPrivs:\t1');
      // Without it, the child inherits ours (1 under the seccomp pass's launcher, which needs it).
      assert.equal(await read(false), `NoNewPrivs:\t${procStatus('self').NoNewPrivs}`);
    });
  }

  test('a setuid program gains no privileges under it', async (t) => {
    if (!root) return t.skip('needs root to make a setuid-root program and run it as another user');
    // A setuid-root copy of `id`, run as nobody: without no_new_privs its effective uid is 0.
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-nnp-'));
    try {
      chmodSync(dir, 0o755);
      const id = join(dir, 'id');
      copyFileSync('/usr/bin/id', id);
      chmodSync(id, 0o4755);
      const euid = async (noNewPrivileges) => {
        const sub = spawn(id, ['-u'], { stdio: ['ignore', 'pipe', 'pipe'], uid: 65534, gid: 65534, noNewPrivileges });
        const { status, stdout } = await collect(sub);
        assert.equal(status.code, 0);
        return stdout.trim();
      };
      if ((await euid(false)) !== '0') return t.skip(`${tmpdir()} ignores setuid bits (nosuid)`);
      assert.equal(await euid(true), '65534');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is refused when not a boolean', () => {
    assert.throws(() => spawn('/bin/true', [], { noNewPrivileges: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => spawn('/bin/true', [], { autoReap: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('autoReap (CLONE_AUTOREAP)', () => {
  test('children survive a waitpid(-1) loop in the same process with their exit status', (t) => {
    if (!s.features.autoReap.available) return t.skip(s.features.autoReap.reason);
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-autoreap-'));
    try {
      const log = join(dir, 'reaped');
      const r = spawnSync(process.execPath, [join(fixtures, 'autoreap.mjs'), 'reap'], {
        encoding: 'utf8',
        timeout: 120000,
        env: { ...process.env, LD_PRELOAD: join(helperBin, 'foreign-reaper.so'), FOREIGN_REAPER_LOG: log },
      });
      assert.equal(r.status, 0, r.stderr);
      const results = JSON.parse(r.stdout);
      let stolen = [];
      try {
        stolen = readFileSync(log, 'latin1').trim().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));
      } catch {}
      for (const one of results) {
        const label = `${one.what} pid ${one.pid}`;
        assert.equal(one.error, undefined, `${label}: ${one.message}`);
        assert.deepEqual({ code: one.code, signal: one.signal }, one.expected, label);
        if (one.what !== 'plain') {
          // The kernel reaped it: the loop never saw it, and the status came from
          // PIDFD_INFO_EXIT, which has no rusage.
          assert.ok(!stolen.includes(one.pid), `${label} was taken by waitpid(-1)`);
          assert.equal(one.rusage, false, label);
        }
      }
      // The loop was there and working: it took some of the children without autoReap.
      const plain = results.filter((o) => o.what === 'plain').map((o) => o.pid);
      assert.ok(stolen.some((pid) => plain.includes(pid)), `the foreign loop took none of ${plain.length} plain children`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is ignored where the kernel lacks it: a plain reap, with rusage', async (t) => {
    if (s.features.autoReap.available) return t.skip('the kernel has CLONE_AUTOREAP');
    const status = await spawn('/bin/sh', ['-c', 'exit 3'], { stdio: 'ignore', autoReap: true }).exited;
    assert.equal(status.code, 3);
    assert.notEqual(status.rusage, null);
  });
});

describe('killOnParentExit', () => {
  test('the child dies with a SIGKILLed parent', async () => {
    const parent = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { spawn } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
        const sub = spawn('sleep', ['1000'], { stdio: 'ignore', killOnParentExit: true });
        console.log(sub.pid); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pid = Number(await firstLine(parent.stdout));
    const child = PidFd.open(pid);
    try {
      parent.kill('SIGKILL');
      await withTimeout(parent.exited, 60000, 'the parent');
      await withTimeout(child.exited(), 60000, `the child ${pid} to die with its parent`);
    } finally {
      child.close();
    }
  });

  test('7.1+: a worker that spawns and ends leaves the child alive (no thread-exit trap), and it dies with the process', async (t) => {
    if (!s.features.pidfdAutoKill.available) return t.skip(s.features.pidfdAutoKill.reason);
    const parent = spawn(process.execPath, [join(fixtures, 'autoreap.mjs'), 'worker'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { pid, tid } = JSON.parse(await firstLine(parent.stdout));
    const child = PidFd.open(pid);
    try {
      // The worker's thread is gone (PR_SET_PDEATHSIG would have been sent by now)...
      const deadline = Date.now() + 60000;
      while (procStatusOr(parent.pid, tid) !== null) {
        assert.ok(Date.now() < deadline, 'the worker thread did not end');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // ...and the child lives, with no SIGKILL pending.
      const st = procStatus(pid);
      assert.notEqual(st.State[0], 'Z');
      assert.ok(!inMask(st.ShdPnd, 9) && !inMask(st.SigPnd, 9), `SIGKILL pending: ${st.ShdPnd}`);
      parent.kill('SIGKILL');
      await withTimeout(parent.exited, 60000, 'the parent');
      await withTimeout(child.exited(), 60000, `the child ${pid} to die with its parent`);
    } finally {
      child.close();
      parent.kill('SIGKILL');
    }
  });
});

/** /proc/<pid>/task/<tid>/status, or null once the thread is gone. */
function procStatusOr(pid, tid) {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
  } catch {
    return null;
  }
}

/** The first line of a stream. */
function firstLine(stream) {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        stream.destroy();
        resolve(text.slice(0, nl));
      }
    });
    stream.on('end', () => reject(new Error(`no line: ${JSON.stringify(text)}`)));
    stream.on('error', reject);
  });
}
