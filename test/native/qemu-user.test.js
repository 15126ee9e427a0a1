// Under QEMU user mode (where multi-arch Docker builds run `npm install` and tests), pidfd works:
// qemu-user has no clone3 (ENOSYS), refuses a fork-like clone whose exit signal is not SIGCHLD
// (EINVAL), turns CLONE_VM | CLONE_VFORK into a fork, and answers ENOSYS to PIDFD_GET_INFO. So
// the fork backend retries with SIGCHLD (native/clone.c), PidFd.info() reads /proc, and support()
// names the emulator. Run here with this machine's own Node under qemu-user for its architecture
// (the same emulation as a foreign one's); skipped, saying so, where qemu-user is not installed.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { GUARD_MS, libraryScript } from '../helpers/index.js';

const qemu = `qemu-${{ x64: 'x86_64', arm64: 'aarch64' }[process.arch]}`;
const installed = spawnSync(qemu, ['--version']).status === 0;

test('under qemu-user: the fork backend spawns, run() and PidFd.info() work, and support() says why', { skip: !installed && `${qemu} is not installed (apt-get install qemu-user)` }, () => {
  const body = `
const s = pidfd.support();
const exited = await pidfd.spawn('/bin/sh', ['-c', 'exit 5'], { stdio: 'ignore' }).exited;
const ran = await pidfd.run('/bin/echo', ['hi']);
const info = pidfd.PidFd.self().info();
console.log(JSON.stringify({ backend: s.backend, reason: s.reason, clone3: s.features.clone3.reason, code: exited.code, stdout: ran.stdout, pid: info.pid, source: info.source }));`;
  const out = execFileSync(qemu, [process.execPath, '--input-type=module', '-e', libraryScript(body)], {
    encoding: 'utf8',
    // The backend and watcher this pass forces are not what is tested here.
    env: { ...process.env, PIDFD_BACKEND: '', PIDFD_WATCHER: '' },
    timeout: GUARD_MS,
    killSignal: 'SIGKILL',
  });
  const r = JSON.parse(out);
  assert.equal(r.backend, 'fork');
  assert.match(r.clone3, /an emulator \(QEMU user mode\) answers ENOSYS/);
  assert.match(r.reason, /refused with EINVAL although this kernel has it: an emulator such as QEMU user mode/);
  assert.equal(r.code, 5);
  assert.equal(r.stdout, 'hi');
  assert.equal(r.source, '/proc');
  assert.ok(r.pid > 0);
});
