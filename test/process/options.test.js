// spawn() options (src/process/options.ts): what the child gets for each option, what each
// refuses, and how a child step that an option asks for fails (case ids from
// docs/reliability.md: F4, F6, F7, G3, G7, H1, H2, H6).

import assert from 'node:assert/strict';
import { getEventListeners, once } from 'node:events';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { PidFd, spawn, SpawnError, support } from '../../dist/index.js';
import {
  assertSpawnError,
  childPids,
  nodeClosedToOthers,
  collect,
  eventually,
  GUARD_MS,
  helperBin,
  killAtEnd,
  LIBRARY_FILES,
  libraryScript,
  ownCgroup,
  procStat,
  readableCopy,
  refused,
  root,
  runScript,
  spawnFailure,
  thrown,
  waitForState,
  warmUp,
  withSleeper,
  withTimeout,
  zombies,
} from '../helpers/index.js';
import { readSelfReport } from '../helpers/self-report.js';

const ENOENT = 2;
const ENOTDIR = 20;
const NOBODY = 65534;
const isRoot = process.getuid() === 0;

let tmp;
before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pidfd-options-'));
  await warmUp();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a command and gives its stdout, asserting it exited 0. */
async function output(file, args, options = {}) {
  const { status, stdout, stderr } = await collect(spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
  assert.equal(status.code, 0, `${file} ${args.join(' ')} failed: ${stderr}`);
  return stdout;
}

/** Writes an executable script under tmp; returns its path. */
function script(name, body) {
  const path = join(tmp, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The environment `env -0` prints, as sorted KEY=VALUE strings. */
function parseEnv(stdout) {
  return stdout.split('\0').filter((line) => line !== '').sort();
}

describe('spawn(): cwd', () => {
  test('cwd sets the working directory, as a path or a file: URL', async () => {
    const dir = mkdtempSync(join(tmp, 'cwd-'));
    assert.equal(await output('/bin/pwd', [], { cwd: dir }), `${dir}\n`);
    assert.equal(await output('/bin/pwd', [], { cwd: pathToFileURL(dir) }), `${dir}\n`);
  });

  test('a relative program path is resolved against cwd, as execvp does after chdir', async () => {
    const dir = join(tmp, 'relative');
    script('relative/hello', 'echo hello from $PWD');
    assert.equal(await output('./hello', [], { cwd: dir }), `hello from ${dir}\n`);
  });

  const cases = [
    { title: 'a directory that does not exist', code: 'ENOENT', errno: ENOENT, cwd: () => join(tmp, 'no-such-dir') },
    {
      title: 'a regular file',
      code: 'ENOTDIR',
      errno: ENOTDIR,
      cwd: () => {
        writeFileSync(join(tmp, 'a-file'), 'x');
        return join(tmp, 'a-file');
      },
    },
    {
      title: 'a file: URL of a missing directory',
      code: 'ENOENT',
      errno: ENOENT,
      cwd: () => pathToFileURL(join(tmp, 'no-such-url-dir')),
      path: () => join(tmp, 'no-such-url-dir'),
    },
  ];
  for (const { title, code, errno, cwd, path = cwd } of cases) {
    test(`F4: a cwd that is ${title} fails with ${code} from chdir naming the cwd`, () => {
      const wanted = path();
      assertSpawnError(spawnFailure('/bin/sh', ['-c', 'exit 0'], { cwd: cwd() }), {
        code,
        errno: -errno,
        syscall: 'chdir',
        path: wanted,
        spawnfile: '/bin/sh',
        spawnargs: ['/bin/sh', '-c', 'exit 0'],
        names: [wanted, 'chdir'],
      });
    });
  }
});

describe('spawn(): env', () => {
  const noEnv = !existsSync('/usr/bin/env') && 'skipping: /usr/bin/env is not installed';

  test('G7: env {} gives the child an empty environment', { skip: noEnv }, async () => {
    // No PATH either, so the program is named by absolute path.
    assert.equal(await output('/usr/bin/env', [], { env: {} }), '');
  });

  test('G7: env undefined gives the child process.env as it is at spawn()', { skip: noEnv }, async () => {
    const key = 'PIDFD_G7_ADDED';
    process.env[key] = `added by ${process.pid}`;
    try {
      const lines = parseEnv(await output('/usr/bin/env', ['-0']));
      assert.ok(lines.includes(`${key}=added by ${process.pid}`), `${key} is missing from the child's env`);
      const expected = Object.entries(process.env).map(([k, v]) => `${k}=${v}`).sort();
      assert.deepEqual(lines, expected);
    } finally {
      delete process.env[key];
    }
  });

  const title = 'G7: env replaces the environment; numbers and booleans become strings, undefined values are left out';
  test(title, { skip: noEnv }, async () => {
    const env = { PIDFD_NUM: 42, PIDFD_BOOL: false, PIDFD_EMPTY: '', PIDFD_UNDEF: undefined };
    assert.deepEqual(parseEnv(await output('/usr/bin/env', ['-0'], { env })), ['PIDFD_BOOL=false', 'PIDFD_EMPTY=', 'PIDFD_NUM=42']);
  });

  test("PATH is looked up in the child's env, not the parent's", async () => {
    const dir = join(tmp, 'path-only-here');
    script('path-only-here/only-here', 'echo found');
    assert.throws(() => spawn('only-here'), { code: 'ENOENT' });
    assert.equal(await output('only-here', [], { env: { PATH: `/nonexistent:${dir}` } }), 'found\n');
  });

  test('an env value that is an object throws ERR_INVALID_ARG_TYPE naming the variable', () => {
    refused(() => spawn('/bin/sh', [], { env: { PIDFD_OBJ: {} } }), {
      type: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
      names: ['`env.PIDFD_OBJ`'],
    });
  });
});

describe('spawn(): argv0', () => {
  test('argv0 is what the child sees as argv[0]; the file is still what runs', async () => {
    const out = await output('/bin/cat', ['/proc/self/cmdline'], { argv0: 'renamed' });
    assert.deepEqual(out.split('\0'), ['renamed', '/proc/self/cmdline', '']);
  });
});

describe('spawn(): detached', () => {
  test('detached starts a new session led by the child', async () => {
    await withSleeper(
      (sub) => {
        const [, , pgrp, session] = procStat(sub.pid);
        assert.equal(Number(session), sub.pid);
        assert.equal(Number(pgrp), sub.pid);
        assert.notEqual(Number(procStat(process.pid)[3]), sub.pid);
      },
      { stdio: 'ignore', detached: true },
    );
  });
});

describe('spawn(): processGroup', () => {
  test('processGroup: true makes a new group; a pgid joins it; the group can be killed at once', async (t) => {
    const leader = spawn('sleep', ['30'], { stdio: 'ignore', processGroup: true });
    const member = spawn('sleep', ['30'], { stdio: 'ignore', processGroup: leader.pid });
    killAtEnd(t, leader, member);
    assert.equal(Number(procStat(leader.pid)[2]), leader.pid);
    assert.equal(Number(procStat(member.pid)[2]), leader.pid);
    assert.equal(Number(procStat(leader.pid)[3]), Number(procStat(process.pid)[3]), 'same session');
    process.kill(-leader.pid, 'SIGKILL');
    const statuses = await withTimeout(Promise.all([leader.exited, member.exited]), GUARD_MS, 'group kill');
    assert.deepEqual(statuses.map((s) => s.signal), ['SIGKILL', 'SIGKILL']);
  });

  test('joining a process group that does not exist fails with EPERM at setpgid', () => {
    const error = spawnFailure('/bin/true', [], { stdio: 'ignore', processGroup: 0x7ffffff0 });
    assertSpawnError(error, { code: 'EPERM', syscall: 'setpgid' });
  });
});

describe('spawn(): uid, gid', () => {
  test('F7: uid, gid and groups change the identity the program runs with', async (t) => {
    if (!isRoot) return t.skip('needs root to change uid/gid');
    const out = await output('/bin/sh', ['-c', 'id -u; id -g; id -G'], { uid: NOBODY, gid: NOBODY, groups: [NOBODY, 4242] });
    assert.deepEqual(out.trim().split('\n'), ['65534', '65534', '65534 4242']);
  });

  test('F7: ids above 2^31 reach the kernel whole (the plan array holds them as their 32 bits)', async (t) => {
    if (!isRoot) return t.skip('needs root to change uid/gid');
    const high = 2 ** 32 - 2;
    const out = await output('/bin/sh', ['-c', 'id -u; id -g; id -G'], { uid: high, gid: 2 ** 31, groups: [2 ** 31 + 1, high] });
    assert.deepEqual(out.trim().split('\n'), [String(high), String(2 ** 31), `${2 ** 31} ${2 ** 31 + 1} ${high}`]);
  });

  test('F7: uid and gid without groups drop the supplementary groups', async (t) => {
    if (!isRoot) return t.skip('needs root to change uid/gid');
    const out = await output('/bin/sh', ['-c', 'id -G'], { uid: NOBODY, gid: NOBODY });
    assert.equal(out.trim(), '65534');
  });

  const values = [
    { value: -1, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: '-1' },
    { value: 2 ** 32, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: String(2 ** 32) },
    { value: 2 ** 64, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: String(2 ** 64) },
    // (uid_t)-1 tells the kernel "leave unchanged": it must not pass as a real id.
    { value: 0xffffffff, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: String(0xffffffff) },
    { value: 1.5, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: '1.5' },
    { value: NaN, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: 'NaN' },
    { value: '0', type: TypeError, code: 'ERR_INVALID_ARG_TYPE', shown: '"0"' },
  ];
  for (const option of ['uid', 'gid']) {
    for (const { value, type, code, shown } of values) {
      test(`G3: ${option}: ${shown} throws a ${type.name} (${code}) naming \`${option}\``, () => {
        refused(() => spawn('/bin/sh', [], { [option]: value }), { type, code, names: [`\`${option}\``, shown] });
      });
    }
  }

  describe('F6: ids an unprivileged parent may not take', () => {
    /**
     * Runs the credentials fixture as an unprivileged user (as nobody, when this is root) and
     * returns its report. Root runs a copy that nobody can read, wherever this checkout is.
     */
    async function unprivilegedReport(t) {
      const closed = isRoot ? nodeClosedToOthers() : null;
      if (closed !== null) return { skip: closed };
      const fixture = join('test', 'fixtures', 'credentials.mjs');
      const from = isRoot ? readableCopy(t, [...LIBRARY_FILES, join('test', 'helpers', 'index.js'), fixture]) : root;
      const ids = isRoot ? { uid: NOBODY, gid: NOBODY } : {};
      const sub = spawn(process.execPath, [join(from, fixture)], { ...ids, cwd: from, stdio: ['ignore', 'pipe', 'pipe'] });
      const { status, stdout, stderr } = await collect(sub);
      assert.equal(status.code, 0, stderr);
      return JSON.parse(stdout);
    }

    let result;
    const report = async (t) => {
      result ??= await unprivilegedReport(t);
      if (result.skip) t.skip(result.skip);
      return result;
    };
    // In the order of the fixture's requests.
    const cases = [
      { title: 'uid 0', syscall: 'setuid' },
      { title: 'gid 0', syscall: 'setgid' },
      { title: 'uid 0 and gid 0', syscall: 'setgid' }, // the group is changed first
      { title: 'groups [0]', syscall: 'setgroups' },
      { title: 'its own uid and gid, with groups [0]', syscall: 'setgroups' },
    ];
    cases.forEach(({ title, syscall }, i) => {
      test(`F6: ${title}: SpawnError EPERM from ${syscall}; no fd, child or zombie left`, async (t) => {
        const r = await report(t);
        if (r.skip) return;
        const { error, fdsLeft, hasChildren, zombies: left } = r.denied[i];
        assert.notEqual(r.uid, 0, 'the fixture ran unprivileged');
        assert.equal(error.name, 'SpawnError', JSON.stringify(error));
        assert.equal(error.code, 'EPERM');
        assert.equal(error.errno, -1);
        assert.equal(error.syscall, syscall);
        assert.match(error.message, new RegExp(`EPERM: operation not permitted, ${syscall}`));
        assert.equal(fdsLeft, '');
        assert.equal(hasChildren, false);
        assert.deepEqual(left, []);
      });
    });

    test('F6: its own uid and gid are allowed; the supplementary groups it cannot drop are no error', async (t) => {
      const r = await report(t);
      if (r.skip) return;
      assert.equal(r.own.code, 0, r.own.stderr);
      const [uid, gid, groups] = r.own.stdout.trim().split('\n');
      assert.deepEqual([Number(uid), Number(gid)], [r.uid, r.gid]);
      // The groups it had, kept (only a privileged parent can drop them).
      const expected = new Set([r.gid, ...r.groups].map(String));
      assert.deepEqual(new Set(groups.split(' ')), expected);
    });
  });
});

describe('spawn(): groups', () => {
  test('groups: [] drops every supplementary group (found by the fuzz test, issue 5)', async (t) => {
    if (!isRoot) return t.skip('needs root to set supplementary groups');
    // A parent with supplementary groups: a node with groups 4242 and 4343, spawned by us.
    const body = `
      const sub = pidfd.spawn('/bin/sh', ['-c', 'id -G'], { groups: [], stdio: ['ignore', 'inherit', 'inherit'] });
      process.exitCode = (await sub.exited).code;
    `;
    const out = await output(process.execPath, ['--input-type=module', '-e', libraryScript(body)], { groups: [4242, 4343] });
    assert.equal(out.trim(), String(process.getgid()));
  });
});

describe('spawn(): killOnParentExit', () => {
  test('the child is killed when the process that spawned it dies', async (t) => {
    const body = `
      const sub = pidfd.spawn('sleep', ['30'], { stdio: 'ignore', killOnParentExit: true });
      console.log(sub.pid);
      setInterval(() => {}, 1000);`;
    const stdio = ['ignore', 'pipe', 'inherit'];
    const parent = killAtEnd(t, spawn(process.execPath, ['--input-type=module', '-e', libraryScript(body)], { stdio }));
    const [line] = await withTimeout(once(parent.stdout, 'data'), GUARD_MS, 'the pid of the child', () => parent.kill('SIGKILL'));
    const orphan = PidFd.open(Number(String(line).trim()));
    t.after(() => {
      orphan.sendSignal('SIGKILL'); // not our child: through its pidfd, should the test fail
      orphan.close();
    });
    // Alive and in its sleep before its parent dies (on a loaded machine, spawn() can return
    // before `sleep` has been given the CPU once).
    await waitForState(orphan.pid, ['S']);
    parent.kill('SIGKILL');
    await parent.exited;
    // The kernel sends SIGKILL at once; init reaps it later (or, in a container, maybe never).
    await waitForState(orphan.pid, ['Z', 'gone']);
  });

  // What the child's PR_GET_PDEATHSIG says: the signal the kernel will send it when its parent
  // dies (test/helpers/c/echo-self reports it).
  const deathSignals = [
    [true, 9],
    ['SIGTERM', 15],
    ['SIGUSR1', 10],
    ['SIGHUP', 1],
    ['SIGRTMIN+3', 37],
    [12, 12],
    [false, 0],
  ];
  for (const [value, number] of deathSignals) {
    test(`killOnParentExit: ${JSON.stringify(value)} makes the kernel send signal ${number} at the parent's death`, async () => {
      const report = join(tmp, `pdeathsig-${number}`);
      const sub = spawn(join(helperBin, 'echo-self'), [report], { stdio: 'ignore', killOnParentExit: value });
      assert.equal((await withTimeout(sub.exited, GUARD_MS, 'echo-self')).code, 0);
      assert.equal(readSelfReport(report).pdeathsig, number);
    });
  }

  test('killOnParentExit with a signal name: the orphan dies of that signal', async (t) => {
    // A parent that starts a shell which reports the signal it gets, then dies.
    const marker = join(tmp, 'pdeath-caught');
    const body = `
      const sub = pidfd.spawn('/bin/sh', ['-c', 'trap "echo USR1 > ${marker}; exit 0" USR1; echo ready; while :; do sleep 0.05; done'],
        { stdio: ['ignore', 'inherit', 'ignore'], killOnParentExit: 'SIGUSR1' });
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', libraryScript(body)], { stdio: ['ignore', 'pipe', 'inherit'] });
    killAtEnd(t, parent);
    await withTimeout(once(parent.stdout, 'data'), GUARD_MS, 'the shell to be ready', () => parent.kill('SIGKILL'));
    parent.kill('SIGKILL');
    await parent.exited;
    // The shell creates the file (the redirection) before echo writes to it: wait for the line.
    await eventually(() => existsSync(marker) && readFileSync(marker, 'utf8').endsWith('\n'), 'the orphan to catch SIGUSR1');
    assert.equal(readFileSync(marker, 'utf8'), 'USR1\n');
  });

  test("killOnParentExit: 'SIGFOO' throws ERR_UNKNOWN_SIGNAL naming the option and the signal", () => {
    refused(() => spawn('/bin/sh', [], { killOnParentExit: 'SIGFOO' }), {
      type: TypeError,
      code: 'ERR_UNKNOWN_SIGNAL',
      names: ['`killOnParentExit`', 'SIGFOO'],
    });
  });

  test('killOnParentExit: 99 throws ERR_OUT_OF_RANGE naming the option and the number', () => {
    refused(() => spawn('/bin/sh', [], { killOnParentExit: 99 }), {
      type: RangeError,
      code: 'ERR_OUT_OF_RANGE',
      names: ['`killOnParentExit`', '99'],
    });
  });
});

describe('spawn(): cgroup', () => {
  /** A fresh cgroup v2 directory under our own, or the reason there is none. */
  function makeCgroup() {
    const own = ownCgroup();
    if (own.skip) return own;
    const name = `pidfd-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const dir = join(own.dir, name);
    try {
      mkdirSync(dir);
    } catch (error) {
      return { skip: `cannot create a cgroup (${error.code}): needs root or a delegated cgroup` };
    }
    return { dir, path: join(own.path, name) };
  }

  test('H1: cgroup places the child in that cgroup v2 directory from its first instruction', async (t) => {
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
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.syscall, 'open');
    assert.equal(error.path, '/sys/fs/cgroup/no-such-cgroup-here');
    assert.deepEqual(zombies(), []);
  });

  const placingBackends = ['clone3', 'clone', 'fork'].filter((b) => b !== 'clone3' || support().features.clone3.available);

  test('H3: a cgroup removed after its fd was opened fails the spawn on every backend, saying so; no child', async (t) => {
    const cg = makeCgroup();
    if (cg.skip) return t.skip(cg.skip);
    const fd = openSync(cg.dir, 'r');
    rmdirSync(cg.dir);
    try {
      for (const backend of placingBackends) {
        const before = childPids();
        const error = thrown(() => spawn('/bin/true', [], { stdio: 'ignore', cgroup: fd, backend }));
        assert.ok(error instanceof SpawnError, backend);
        assert.equal(error.code, 'ENOENT', backend);
        assert.match(error.message, new RegExp(`the cgroup that fd ${fd} is open on has been removed`), backend);
        assert.deepEqual(childPids(), before, `${backend}: no child`);
      }
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(zombies(), []);
  });

  test('H4: a "domain invalid" cgroup (the child of a threaded one) fails with ENOTSUP naming its type, on every backend', async (t) => {
    const cg = makeCgroup();
    if (cg.skip) return t.skip(cg.skip);
    const inner = join(cg.dir, 'inner');
    mkdirSync(inner);
    try {
      try {
        writeFileSync(join(cg.dir, 'cgroup.type'), 'threaded');
      } catch (error) {
        return t.skip(`this kernel has no threaded cgroups (${error.code})`);
      }
      assert.equal(readFileSync(join(inner, 'cgroup.type'), 'latin1').trim(), 'domain invalid');
      for (const backend of placingBackends) {
        const before = childPids();
        const error = thrown(() => spawn('/bin/true', [], { stdio: 'ignore', cgroup: inner, backend }));
        assert.ok(error instanceof SpawnError, backend);
        assert.equal(error.code, 'ENOTSUP', backend);
        assert.equal(error.path, inner, backend);
        assert.match(error.message, /the cgroup's type is "domain invalid"/, backend);
        assert.doesNotMatch(error.message, /CLONE_INTO_CGROUP/, `${backend}: the kernel has it; the cgroup is the cause`);
        assert.deepEqual(childPids(), before, `${backend}: no child`);
      }
    } finally {
      rmdirSync(inner);
      rmdirSync(cg.dir);
    }
  });

  test('H5: a cgroup that enables controllers for its children can hold no process: EBUSY, saying why, on every backend', async (t) => {
    const cg = makeCgroup();
    if (cg.skip) return t.skip(cg.skip);
    const leaf = join(cg.dir, 'leaf');
    mkdirSync(leaf);
    try {
      const offered = readFileSync(join(cg.dir, 'cgroup.controllers'), 'latin1').trim().split(' ').filter(Boolean);
      if (offered.length === 0) return t.skip('our cgroup offers its children no controller (cgroup.subtree_control is empty), so none can be enabled below it');
      writeFileSync(join(cg.dir, 'cgroup.subtree_control'), `+${offered[0]}`);
      for (const backend of placingBackends) {
        const before = childPids();
        const error = thrown(() => spawn('/bin/true', [], { stdio: 'ignore', cgroup: cg.dir, backend }));
        assert.ok(error instanceof SpawnError, backend);
        assert.equal(error.code, 'EBUSY', backend);
        assert.match(error.message, /no internal processes/, backend);
        assert.deepEqual(childPids(), before, `${backend}: no child`);
      }
      const out = await output('/bin/cat', ['/proc/self/cgroup'], { cgroup: leaf });
      assert.match(out, new RegExp(`^0::${cg.path}/leaf$`, 'm'), 'its leaf takes the child');
    } finally {
      rmdirSync(leaf);
      rmdirSync(cg.dir);
    }
  });

  test('H6: without clone3 (the clone and fork backends), the child joins the cgroup itself before its first step', async (t) => {
    const cg = makeCgroup();
    if (cg.skip) return t.skip(cg.skip);
    try {
      for (const backend of ['clone', 'fork']) {
        const out = await output('/bin/cat', ['/proc/self/cgroup'], { cgroup: cg.dir, backend });
        assert.match(out, new RegExp(`^0::${cg.path}$`, 'm'), backend);
      }
    } finally {
      rmdirSync(cg.dir);
    }
  });

  test('H6: where clone3 is filtered, cgroup placement still works, and so do other spawns', (t) => {
    const cg = makeCgroup();
    if (cg.skip) return t.skip(cg.skip);
    try {
      const result = runScript(
        `const sub = pidfd.spawn('/bin/cat', ['/proc/self/cgroup'], { cgroup: ${JSON.stringify(cg.dir)}, stdio: ['ignore', 'pipe', 'inherit'] });
         let out = ''; sub.stdout.setEncoding('utf8').on('data', (d) => (out += d));
         await new Promise((resolve) => sub.stdout.on('end', resolve));
         const other = pidfd.spawn('/bin/sh', ['-c', 'exit 6'], { stdio: 'ignore' });
         console.log(JSON.stringify({ out, code: (await sub.exited).code, other: (await other.exited).code, backend: pidfd.support().backend }));`,
        { rules: ['clone3=38'], env: { PIDFD_BACKEND: '' } },
      );
      assert.equal(result.backend, 'clone');
      assert.match(result.out, new RegExp(`^0::${cg.path}$`, 'm'));
      assert.deepEqual([result.code, result.other], [0, 6]);
    } finally {
      rmdirSync(cg.dir);
    }
  });
});

describe('spawn(): signal, killSignal', () => {
  test('aborting the signal sends killSignal to the child', async (t) => {
    const controller = new AbortController();
    const sub = killAtEnd(t, spawn('sleep', ['30'], { stdio: 'ignore', signal: controller.signal, killSignal: 'SIGINT' }));
    controller.abort();
    const status = await withTimeout(sub.exited, GUARD_MS, 'abort');
    assert.equal(status.signal, 'SIGINT');
  });

  test('an already aborted signal throws an AbortError and starts nothing', () => {
    const controller = new AbortController();
    controller.abort(new Error('no thanks'));
    const error = refused(() => spawn('/bin/true', [], { signal: controller.signal }), {
      type: Error,
      code: 'ABORT_ERR',
      names: ['aborted'],
    });
    assert.equal(error.name, 'AbortError');
    assert.equal(error.cause.message, 'no thanks');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no listener was left on the signal');
  });

  test('the abort listener is added at spawn and removed at the exit; aborting then does nothing', async () => {
    const controller = new AbortController();
    const sub = spawn('/bin/true', [], { stdio: 'ignore', signal: controller.signal });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'one listener while the child runs');
    await sub.exited;
    // A signal outlives its children (AbortSignal.timeout, a server's shutdown signal): a
    // listener left on it would keep every Subprocess it was given.
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the listener is removed at the exit');
    controller.abort();
    assert.equal(sub.exitStatus.code, 0);
    assert.equal(sub.kill(0), false);
  });

  test('the abort listener of a child killed through the signal is gone after its exit', async (t) => {
    const controller = new AbortController();
    const sub = killAtEnd(t, spawn('sleep', ['30'], { stdio: 'ignore', signal: controller.signal }));
    controller.abort();
    assert.equal((await withTimeout(sub.exited, GUARD_MS, 'abort')).signal, 'SIGTERM');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});

describe('spawn(): unknown options', () => {
  const cases = [
    { option: 'shell', options: { shell: true }, names: ['`shell`', "spawn('/bin/sh'"] },
    { option: 'timeout', options: { timeout: 100 }, names: ['`timeout`', 'AbortSignal.timeout'] },
    { option: 'foo', options: { foo: 1 }, names: ['`foo`', 'cwd'] },
  ];
  for (const { option, options, names } of cases) {
    test(`the option \`${option}\` throws ERR_INVALID_ARG_VALUE naming it`, () => {
      refused(() => spawn('/bin/sh', [], options), { type: TypeError, code: 'ERR_INVALID_ARG_VALUE', names });
    });
  }
});
