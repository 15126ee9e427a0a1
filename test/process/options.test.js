// spawn() options: what the child gets, one behaviour per test (TESTPLAN G7 in part, F7 in part,
// H1, and the options of issue #2).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmdirSync, rmSync, writeFileSync, chmodSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { spawn, SpawnError, support } from '../../dist/index.js';
import { collect, procStatus, readAll, root, thrown, withTimeout, zombies } from '../helpers/index.js';

/** Runs a command and gives its stdout, asserting it exited 0. */
async function output(file, args, options = {}) {
  const { status, stdout, stderr } = await collect(spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
  assert.equal(status.code, 0, `${file} ${args.join(' ')} failed: ${stderr}`);
  return stdout;
}

/** Fields of /proc/<pid>/stat after the command name. */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

describe('cwd, env, argv0', () => {
  test('cwd sets the working directory, as a path or a file: URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-cwd-'));
    try {
      assert.equal(await output('/bin/pwd', [], { cwd: dir }), `${dir}\n`);
      assert.equal(await output('/bin/pwd', [], { cwd: pathToFileURL(dir) }), `${dir}\n`);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('a relative program path is resolved against cwd, as execvp does after chdir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-rel-'));
    try {
      writeFileSync(join(dir, 'hello'), '#!/bin/sh\necho hello from $PWD\n');
      chmodSync(join(dir, 'hello'), 0o755);
      assert.equal(await output('./hello', [], { cwd: dir }), `hello from ${dir}\n`);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('G7: env replaces the environment entirely; undefined values are left out', async () => {
    const out = await output('/usr/bin/env', [], { env: { ONE: '1', TWO: 2, GONE: undefined } });
    assert.deepEqual(out.trim().split('\n').sort(), ['ONE=1', 'TWO=2']);
  });

  test('G7: without env the child inherits process.env as it is at spawn time', async () => {
    process.env.PIDFD_TEST_ADDED = 'added just now';
    try {
      assert.match(await output('/usr/bin/env', []), /^PIDFD_TEST_ADDED=added just now$/m);
    } finally {
      delete process.env.PIDFD_TEST_ADDED;
    }
  });

  test("PATH is looked up in the child's env, not the parent's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-path-'));
    try {
      writeFileSync(join(dir, 'only-here'), '#!/bin/sh\necho found\n');
      chmodSync(join(dir, 'only-here'), 0o755);
      assert.throws(() => spawn('only-here'), { code: 'ENOENT' });
      assert.equal(await output('only-here', [], { env: { PATH: `/nonexistent:${dir}` } }), 'found\n');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('argv0 is what the child sees as argv[0]; the file is still what runs', async () => {
    const out = await output('/bin/cat', ['/proc/self/cmdline'], { argv0: 'renamed' });
    assert.deepEqual(out.split('\0'), ['renamed', '/proc/self/cmdline', '']);
  });
});

describe('sessions and process groups', () => {
  test('detached starts a new session led by the child', async () => {
    const sub = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
    try {
      const [, , pgrp, session] = statFields(sub.pid);
      assert.equal(Number(session), sub.pid);
      assert.equal(Number(pgrp), sub.pid);
      assert.notEqual(Number(statFields(process.pid)[3]), sub.pid);
    } finally {
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test('processGroup: true makes a new group; a pgid joins it; the group can be killed at once', async () => {
    const leader = spawn('sleep', ['30'], { stdio: 'ignore', processGroup: true });
    const member = spawn('sleep', ['30'], { stdio: 'ignore', processGroup: leader.pid });
    assert.equal(Number(statFields(leader.pid)[2]), leader.pid);
    assert.equal(Number(statFields(member.pid)[2]), leader.pid);
    assert.equal(Number(statFields(leader.pid)[3]), Number(statFields(process.pid)[3]), 'same session');
    process.kill(-leader.pid, 'SIGKILL');
    const statuses = await withTimeout(Promise.all([leader.exited, member.exited]), 5000, 'group kill');
    assert.deepEqual(statuses.map((s) => s.signal), ['SIGKILL', 'SIGKILL']);
  });

  test('joining a process group that does not exist fails with EPERM at setpgid', () => {
    const error = thrown(() => spawn('/bin/true', [], { stdio: 'ignore', processGroup: 0x7ffffff0 }));
    assert.ok(error instanceof SpawnError);
    assert.equal(error.syscall, 'setpgid');
    assert.equal(error.code, 'EPERM');
  });
});

describe('credentials', () => {
  const root = process.getuid() === 0;

  test('F7: uid, gid and groups change the identity the program runs with', async (t) => {
    if (!root) return t.skip('needs root to change uid/gid');
    const out = await output('/bin/sh', ['-c', 'id -u; id -g; id -G'], { uid: 65534, gid: 65534, groups: [65534, 4242] });
    assert.deepEqual(out.trim().split('\n'), ['65534', '65534', '65534 4242']);
  });

  test('F7: uid and gid without groups drop the supplementary groups', async (t) => {
    if (!root) return t.skip('needs root to change uid/gid');
    const out = await output('/bin/sh', ['-c', 'id -G'], { uid: 65534, gid: 65534 });
    assert.equal(out.trim(), '65534');
  });

  test('groups: [] drops every supplementary group (found by the fuzz test, issue 5)', async (t) => {
    if (!root) return t.skip('needs root to set supplementary groups');
    // A parent with supplementary groups: a node with groups 4242 and 4343, spawned by us.
    const script = `
      import { spawn } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
      const sub = spawn('/bin/sh', ['-c', 'id -G'], { groups: [], stdio: ['ignore', 'inherit', 'inherit'] });
      process.exitCode = (await sub.exited).code;
    `;
    const out = await output(process.execPath, ['--input-type=module', '-e', script], { groups: [4242, 4343] });
    assert.equal(out.trim(), String(process.getgid()));
  });
});

describe('killOnParentExit', () => {
  test('the child is killed when the process that spawned it dies', async () => {
    const script = `
      import { spawn } from ${JSON.stringify(`${root}/dist/index.js`)};
      const sub = spawn('sleep', ['30'], { stdio: 'ignore', killOnParentExit: true });
      console.log(sub.pid);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise((resolve) => parent.stdout.once('data', (d) => resolve(String(d))));
    const orphan = Number(line.trim());
    assert.match(procStatus(orphan).State, /^S/);
    parent.kill('SIGKILL');
    await parent.exited;
    // The kernel sends SIGKILL at once; init reaps it later (or, in a container, maybe never).
    const deadline = Date.now() + 5000;
    for (;;) {
      let state;
      try {
        state = procStatus(orphan).State[0];
      } catch {
        state = 'gone';
      }
      if (state === 'gone' || state === 'Z') break;
      if (Date.now() > deadline) assert.fail(`the orphan ${orphan} is still ${state}`);
      await sleep(10);
    }
  });

  test('a signal name chooses the signal', async () => {
    const sub = spawn('sleep', ['30'], { stdio: 'ignore', killOnParentExit: 'SIGTERM' });
    // PR_SET_PDEATHSIG is visible to nobody but the kernel; check it is at least accepted.
    assert.equal(sub.kill('SIGKILL'), true);
    assert.equal((await sub.exited).signal, 'SIGKILL');
  });
});

describe('cgroup', () => {
  /** A fresh cgroup v2 directory under our own, or the reason there is none. */
  function makeCgroup() {
    let mount = null;
    for (const candidate of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      try {
        if (statfsSync(candidate).type === 0x63677270) {
          mount = candidate;
          break;
        }
      } catch {}
    }
    if (mount === null) return { skip: 'no cgroup v2 hierarchy is mounted' };
    const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
    if (own === undefined) return { skip: 'this process has no cgroup v2 membership' };
    const name = `pidfd-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const dir = join(mount, own, name);
    try {
      mkdirSync(dir);
    } catch (error) {
      return { skip: `cannot create a cgroup (${error.code}): needs root or a delegated cgroup` };
    }
    return { dir, path: join(own, name) };
  }

  test('H1: cgroup places the child in that cgroup v2 directory from its first instruction', async (t) => {
    if (support().backend !== 'clone3') return t.skip(`cgroup placement needs clone3; backend is ${support().backend}`);
    const cg = makeCgroup();
    if (cg.skip) return t.skip(cg.skip);
    try {
      const out = await output('/bin/cat', ['/proc/self/cgroup'], { cgroup: cg.dir });
      assert.match(out, new RegExp(`^0::${cg.path}$`, 'm'));
      const fd = openSync(cg.dir, 'r');
      try {
        const viaFd = await output('/bin/cat', ['/proc/self/cgroup'], { cgroup: fd });
        assert.match(viaFd, new RegExp(`^0::${cg.path}$`, 'm'));
      } finally {
        closeSync(fd);
      }
      assert.doesNotMatch(readFileSync('/proc/self/cgroup', 'utf8'), new RegExp(cg.path), 'the parent stays put');
    } finally {
      rmdirSync(cg.dir);
    }
  });

  test('H2: a cgroup path that does not exist fails at open, naming the path', () => {
    const error = thrown(() => spawn('/bin/true', [], { stdio: 'ignore', cgroup: '/sys/fs/cgroup/no-such-cgroup-here' }));
    assert.ok(error instanceof SpawnError);
    if (support().backend === 'clone3') {
      assert.equal(error.code, 'ENOENT');
      assert.equal(error.syscall, 'open');
      assert.equal(error.path, '/sys/fs/cgroup/no-such-cgroup-here');
    } else {
      assert.equal(error.code, 'ENOTSUP');
    }
    assert.deepEqual(zombies(), []);
  });

  test('H6: with the clone or fork backend, a cgroup request is a clear ENOTSUP', (t) => {
    if (support().backend === 'clone3') return t.skip('the clone3 backend supports cgroups');
    const error = thrown(() => spawn('/bin/true', [], { stdio: 'ignore', cgroup: '/sys/fs/cgroup' }));
    assert.ok(error instanceof SpawnError);
    assert.equal(error.code, 'ENOTSUP');
    assert.match(error.message, /clone3/);
  });
});

describe('AbortSignal and disposal', () => {
  test('aborting the signal sends killSignal to the child', async () => {
    const controller = new AbortController();
    const sub = spawn('sleep', ['30'], { stdio: 'ignore', signal: controller.signal, killSignal: 'SIGINT' });
    controller.abort();
    const status = await withTimeout(sub.exited, 5000, 'abort');
    assert.equal(status.signal, 'SIGINT');
  });

  test('an already aborted signal throws an AbortError and starts nothing', () => {
    const controller = new AbortController();
    controller.abort(new Error('no thanks'));
    const error = thrown(() => spawn('/bin/true', [], { signal: controller.signal }));
    assert.equal(error.name, 'AbortError');
    assert.equal(error.code, 'ABORT_ERR');
    assert.equal(error.cause.message, 'no thanks');
  });

  test('aborting after the exit does nothing', async () => {
    const controller = new AbortController();
    const sub = spawn('/bin/true', [], { stdio: 'ignore', signal: controller.signal });
    await sub.exited;
    controller.abort();
    assert.equal(sub.exitStatus.code, 0);
  });

  test('Symbol.asyncDispose kills the child, closes its pipes and waits for the exit', async () => {
    const sub = spawn('sleep', ['30']);
    await sub[Symbol.asyncDispose]();
    assert.equal(sub.exitStatus.signal, 'SIGKILL');
    assert.equal(sub.stdout.destroyed, true);
    assert.equal(sub.stdin.destroyed, true);
    await sub[Symbol.asyncDispose](); // a second dispose is harmless
  });
});

describe('stdio streams', () => {
  test('stdin, stdout and stderr are pipes by default', async () => {
    const sub = spawn('/bin/sh', ['-c', 'cat; echo err >&2']);
    sub.stdin.end('round trip');
    const { status, stdout, stderr } = await collect(sub);
    assert.deepEqual([status.code, stdout, stderr], [0, 'round trip', 'err\n']);
  });

  test('a stream with an fd can be given: the child writes straight into the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-stream-'));
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    try {
      const sub = spawn('/bin/echo', ['into the file'], { stdio: ['ignore', { fd }, 'inherit'] });
      assert.equal(sub.stdout, null);
      await sub.exited;
      assert.equal(readFileSync(file, 'utf8'), 'into the file\n');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  });

  test("'pipe' at fd 3 is a two-way socket", async () => {
    const sub = spawn('/bin/sh', ['-c', 'read line <&3; echo "got $line" >&3'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    assert.equal(sub.stdio.length, 4);
    const reply = readAll(sub.stdio[3]);
    sub.stdio[3].write('ping\n');
    assert.equal((await sub.exited).code, 0);
    assert.equal(await reply, 'got ping\n');
  });
});
