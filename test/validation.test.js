// Input validation: spawn() and PidFd check their arguments before any system call, throw the
// right class with a `code`, and name the option and the value; nothing is created on the way
// (TESTPLAN G1-G8).

import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { PidFd, spawn, SpawnError, Subprocess } from '../dist/index.js';
import { childPids, collect, fdDiff, fdSnapshot, hasChildren, thrown, thrownNotStarted } from './helpers/index.js';

const EBADF = 9;
const ESRCH = 3;

let tmp;

/** stdio for children that must succeed: no stdin pipe, which would stay open after the exit. */
const quiet = ['ignore', 'pipe', 'pipe'];

/**
 * Calls fn, which must throw exactly `type` with `code`, and a message naming every string in
 * `names`; and must leave no child and no new fd.
 */
function rejects(fn, { type, code, names }) {
  const fdsBefore = fdSnapshot();
  const childrenBefore = childPids(); // non-empty only after an earlier test failed
  const error = thrownNotStarted(fn);
  assert.equal(
    error?.constructor,
    type,
    `expected a ${type.name}, got ${error?.constructor?.name}: ${error?.message}`,
  );
  assert.equal(error.code, code, `wrong code; message: ${error.message}`);
  for (const name of names) {
    assert.ok(error.message.includes(name), `message does not name ${name}: ${error.message}`);
  }
  assert.equal(fdDiff(fdsBefore, fdSnapshot()), '', 'the fd table changed');
  assert.deepEqual(childPids().filter((pid) => !childrenBefore.includes(pid)), [], 'a child was created');
  if (childrenBefore.length === 0) assert.equal(hasChildren(), false, 'a child was created');
  return error;
}

/** A pid that no process or thread has right now (the highest free one below pid_max). */
function freePid() {
  const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1'));
  for (let pid = max - 1; pid > 1; pid--) if (!existsSync(`/proc/${pid}`)) return pid;
  throw new Error('no free pid');
}

/** An fd number that is closed now (it was open a moment ago, so it is in range). */
function closedFd() {
  const fd = openSync('/dev/null', 'r');
  closeSync(fd);
  assert.equal(thrown(() => fstatSync(fd)).code, 'EBADF');
  return fd;
}

/** The environment `env -0` prints, as sorted KEY=VALUE strings. */
function parseEnv(stdout) {
  return stdout.split('\0').filter((line) => line !== '').sort();
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pidfd-validation-'));
  // The addon opens its exit watcher on the first spawn: do one, so snapshots compare like with like.
  const { status } = await collect(spawn('/bin/sh', ['-c', 'exit 0'], { stdio: quiet }));
  assert.equal(status.code, 0);
  assert.equal(hasChildren(), false, 'children exist before the tests start');
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('spawn(): strings with NUL bytes', () => {
  const cases = [
    { field: 'file', name: '`file`', call: () => spawn('/bin/s\0h', []) },
    { field: 'an arg', name: '`args[1]`', call: () => spawn('/bin/sh', ['-c', 'exit 0\0; exit 1']) },
    { field: 'argv0', name: '`argv0`', call: () => spawn('/bin/sh', [], { argv0: 's\0h' }) },
    { field: 'cwd', name: '`cwd`', call: () => spawn('/bin/sh', [], { cwd: '/tmp\0/x' }) },
    { field: 'an env key', name: 'env key', call: () => spawn('/bin/sh', [], { env: { 'A\0B': 'x' } }) },
    {
      field: 'an env value',
      name: '`env.PIDFD_V`',
      call: () => spawn('/bin/sh', [], { env: { PIDFD_V: 'a\0b' } }),
    },
    { field: 'cgroup', name: '`cgroup`', call: () => spawn('/bin/sh', [], { cgroup: '/sys/fs/cgroup\0x' }) },
  ];
  for (const { field, name, call } of cases) {
    test(`a NUL byte in ${field} throws ERR_INVALID_ARG_VALUE naming ${name}`, () => {
      rejects(call, { type: TypeError, code: 'ERR_INVALID_ARG_VALUE', names: [name, 'NUL'] });
    });
  }
});

describe('spawn(): the program argument', () => {
  const missing = [
    { title: 'an empty string', file: '' },
    { title: 'undefined', file: undefined },
  ];
  for (const { title, file } of missing) {
    test(`${title} as the program throws ERR_INVALID_ARG_VALUE: no program given`, () => {
      rejects(() => spawn(file, []), {
        type: TypeError,
        code: 'ERR_INVALID_ARG_VALUE',
        names: ['file', 'no program'],
      });
    });
  }

  const wrongType = [
    { title: 'a number', file: 42, shown: '42' },
    { title: 'null', file: null, shown: 'null' },
    { title: 'an array', file: ['/bin/sh'], shown: 'array' },
    { title: 'a Buffer', file: Buffer.from('/bin/sh'), shown: 'Buffer' },
  ];
  for (const { title, file, shown } of wrongType) {
    test(`${title} as the program throws ERR_INVALID_ARG_TYPE naming \`file\``, () => {
      rejects(() => spawn(file, []), {
        type: TypeError,
        code: 'ERR_INVALID_ARG_TYPE',
        names: ['`file`', shown],
      });
    });
  }

  test('an argument that is not a string throws ERR_INVALID_ARG_TYPE naming its index', () => {
    rejects(() => spawn('/bin/sh', ['-c', 7]), {
      type: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
      names: ['`args[1]`', '7'],
    });
  });
});

describe('spawn(): options uid and gid', () => {
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
      test(`${option}: ${shown} throws a ${type.name} (${code}) naming \`${option}\``, () => {
        const names = [`\`${option}\``, shown];
        rejects(() => spawn('/bin/sh', [], { [option]: value }), { type, code, names });
      });
    }
  }
});

describe('spawn(): option stdio', () => {
  const values = [
    { value: -1, shown: '-1' },
    { value: -2, shown: '-2' },
    { value: 1.5, shown: '1.5' },
  ];
  for (const target of [1, 3]) {
    for (const { value, shown } of values) {
      test(`stdio[${target}]: ${shown} throws ERR_OUT_OF_RANGE naming \`stdio[${target}]\``, () => {
        const stdio = ['ignore', 'ignore', 'ignore'];
        stdio[target] = value;
        rejects(() => spawn('/bin/sh', [], { stdio }), {
          type: RangeError,
          code: 'ERR_OUT_OF_RANGE',
          names: [`\`stdio[${target}]\``, shown],
        });
      });
    }
  }

  test("stdio[1]: 'foo' throws ERR_INVALID_ARG_VALUE naming `stdio[1]`", () => {
    rejects(() => spawn('/bin/sh', [], { stdio: ['ignore', 'foo', 'ignore'] }), {
      type: TypeError,
      code: 'ERR_INVALID_ARG_VALUE',
      names: ['`stdio[1]`', '"foo"'],
    });
  });

  test('an fd number that is closed throws EBADF at spawn naming the entry and the fd', () => {
    const fd = closedFd();
    const error = rejects(() => spawn('/bin/sh', [], { stdio: ['ignore', fd, 'ignore'] }), {
      type: SpawnError,
      code: 'EBADF',
      names: ['stdio[1]'],
    });
    assert.equal(error.errno, -EBADF);
    assert.equal(error.fd, 1);
    assert.equal(error.spawnfile, '/bin/sh');
    // The user passed `fd`, not 1: the message must say which of their fds is closed.
    assert.match(
      error.message,
      new RegExp(`\\b${fd}\\b`),
      `message does not name fd ${fd}: ${error.message}`,
    );
  });

  test('an fd number above any RLIMIT_NOFILE (2**30) throws EBADF at spawn naming the entry', () => {
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))?.[1];
    assert.ok(hard === 'unlimited' || Number(hard) <= 2 ** 30, `hard RLIMIT_NOFILE is ${hard}`);
    const error = rejects(() => spawn('/bin/sh', [], { stdio: ['ignore', 2 ** 30, 'ignore'] }), {
      type: SpawnError,
      code: 'EBADF',
      names: ['stdio[1]', 'not open'],
    });
    assert.equal(error.errno, -EBADF);
    assert.equal(error.fd, 1);
  });
});

describe('spawn(): each call', () => {
  // spawn() returns a started Subprocess, so there is no second start to refuse (TESTPLAN G5):
  // what a user relies on instead is one call, one child.
  test('each spawn() call starts exactly one child', async () => {
    assert.deepEqual(childPids(), []);
    const first = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
    assert.deepEqual(childPids(), [first.pid]);
    const second = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
    assert.notEqual(second.pid, first.pid);
    assert.deepEqual(childPids(), [first.pid, second.pid].sort((a, b) => a - b));
    first.stdin.end();
    second.stdin.end();
    const [a, b] = await Promise.all([first.exited, second.exited]);
    assert.equal(a.code, 0);
    assert.equal(b.code, 0);
    assert.deepEqual(childPids(), []);
    assert.equal(hasChildren(), false);
  });

  test('the child sees args, env and cwd as they were at spawn(), not as changed after', async () => {
    const script = 'printf "%s|%s|%s|%s" "$0" "$1" "$PIDFD_G6" "$(pwd)"';
    const args = ['-c', script, 'zero', 'one'];
    const env = { PIDFD_G6: 'original', PATH: process.env.PATH };
    const options = { env, cwd: tmp, stdio: quiet };
    const sub = spawn('/bin/sh', args, options);
    args[1] = 'printf changed';
    args[3] = 'changed';
    args.push('extra');
    env.PIDFD_G6 = 'changed';
    delete env.PATH;
    options.cwd = '/';
    const { status, stdout } = await collect(sub);
    assert.equal(status.code, 0);
    assert.equal(stdout, `zero|one|original|${realpathSync(tmp)}`);
    assert.deepEqual(sub.spawnargs, ['/bin/sh', '-c', script, 'zero', 'one']);
  });
});

describe('spawn(): option env', () => {
  const noEnv = !existsSync('/usr/bin/env') && 'skipping: /usr/bin/env is not installed';

  test('env {} gives the child an empty environment', { skip: noEnv }, async () => {
    // No PATH either, so the program is named by absolute path.
    const { status, stdout } = await collect(spawn('/usr/bin/env', [], { env: {}, stdio: quiet }));
    assert.equal(status.code, 0);
    assert.equal(stdout, '');
  });

  test('env undefined gives the child process.env as it is at spawn()', { skip: noEnv }, async () => {
    const key = 'PIDFD_G7_ADDED';
    process.env[key] = `added by ${process.pid}`;
    try {
      const { status, stdout } = await collect(spawn('/usr/bin/env', ['-0'], { stdio: quiet }));
      assert.equal(status.code, 0);
      const lines = parseEnv(stdout);
      assert.ok(lines.includes(`${key}=added by ${process.pid}`), `${key} is missing from the child's env`);
      const expected = Object.entries(process.env).map(([k, v]) => `${k}=${v}`).sort();
      assert.deepEqual(lines, expected);
    } finally {
      delete process.env[key];
    }
  });

  const title = 'env values that are numbers or booleans are passed as strings; undefined ones are left out';
  test(title, { skip: noEnv }, async () => {
    const env = { PIDFD_NUM: 42, PIDFD_BOOL: false, PIDFD_EMPTY: '', PIDFD_UNDEF: undefined };
    const { status, stdout } = await collect(spawn('/usr/bin/env', ['-0'], { env, stdio: quiet }));
    assert.equal(status.code, 0);
    assert.deepEqual(parseEnv(stdout), ['PIDFD_BOOL=false', 'PIDFD_EMPTY=', 'PIDFD_NUM=42']);
  });

  test('an env value that is an object throws ERR_INVALID_ARG_TYPE naming the variable', () => {
    rejects(() => spawn('/bin/sh', [], { env: { PIDFD_OBJ: {} } }), {
      type: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
      names: ['`env.PIDFD_OBJ`'],
    });
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
      rejects(() => spawn('/bin/sh', [], options), { type: TypeError, code: 'ERR_INVALID_ARG_VALUE', names });
    });
  }

  test("killOnParentExit: 'SIGFOO' throws ERR_UNKNOWN_SIGNAL naming the option and the signal", () => {
    rejects(() => spawn('/bin/sh', [], { killOnParentExit: 'SIGFOO' }), {
      type: TypeError,
      code: 'ERR_UNKNOWN_SIGNAL',
      names: ['`killOnParentExit`', 'SIGFOO'],
    });
  });

  test('killOnParentExit: 99 throws ERR_OUT_OF_RANGE naming the option and the number', () => {
    rejects(() => spawn('/bin/sh', [], { killOnParentExit: 99 }), {
      type: RangeError,
      code: 'ERR_OUT_OF_RANGE',
      names: ['`killOnParentExit`', '99'],
    });
  });
});

describe('PidFd.open()', () => {
  const bad = [
    { value: -1, shown: '-1' },
    { value: 0, shown: '0' },
    { value: 1.5, shown: '1.5' },
    { value: 2 ** 31, shown: String(2 ** 31) },
  ];
  for (const { value, shown } of bad) {
    test(`PidFd.open(${shown}) throws ERR_OUT_OF_RANGE naming the pid`, () => {
      rejects(() => PidFd.open(value), { type: RangeError, code: 'ERR_OUT_OF_RANGE', names: ['pid', shown] });
    });
  }

  test('PidFd.open() of a pid no process has throws ESRCH from pidfd_open naming the pid', () => {
    const pid = freePid();
    const error = rejects(() => PidFd.open(pid), { type: Error, code: 'ESRCH', names: [String(pid)] });
    assert.equal(error.errno, -ESRCH);
    assert.equal(error.syscall, 'pidfd_open');
  });
});

describe('PidFd.fromFd()', () => {
  test("PidFd.fromFd() of /dev/null throws EBADF naming the fd, and leaves the caller's fd open", () => {
    const fd = openSync('/dev/null', 'r');
    try {
      const error = rejects(() => PidFd.fromFd(fd), {
        type: Error,
        code: 'EBADF',
        names: [`fd ${fd}`, 'not a pidfd'],
      });
      assert.equal(error.errno, -EBADF);
      fstatSync(fd); // still the caller's, still open
    } finally {
      closeSync(fd);
    }
  });

  test('PidFd.fromFd() of a closed fd throws EBADF naming the fd', () => {
    const fd = closedFd();
    const error = rejects(() => PidFd.fromFd(fd), { type: Error, code: 'EBADF', names: [`fd ${fd}`] });
    assert.equal(error.errno, -EBADF);
  });

  test('PidFd.fromFd(-1) throws ERR_OUT_OF_RANGE naming the fd', () => {
    rejects(() => PidFd.fromFd(-1), { type: RangeError, code: 'ERR_OUT_OF_RANGE', names: ['fd', '-1'] });
  });

  test('PidFd.fromFd() of a pidfd whose process was reaped throws ESRCH', async () => {
    const sub = spawn('/bin/sh', ['-c', 'exit 0'], { stdio: 'ignore' });
    const copy = sub.pidfd.dup();
    try {
      await sub.exited;
      const error = thrown(() => PidFd.fromFd(copy.fd));
      assert.equal(error.constructor, Error);
      assert.equal(error.code, 'ESRCH');
      assert.equal(error.errno, -ESRCH);
      assert.ok(error.message.includes(`fd ${copy.fd}`), `message does not name the fd: ${error.message}`);
      assert.equal(copy.sendSignal(0), false);
    } finally {
      copy.close();
    }
  });
});

describe('PidFd: a closed PidFd', () => {
  test('sendSignal() on a closed PidFd throws ERR_PIDFD_CLOSED naming the method', () => {
    const pidfd = PidFd.open(process.pid);
    pidfd.close();
    assert.equal(pidfd.closed, true);
    const closed = { type: Error, code: 'ERR_PIDFD_CLOSED', names: ['sendSignal', 'closed'] };
    rejects(() => pidfd.sendSignal(0), closed);
    rejects(() => pidfd.sendSignal('SIGKILL'), closed);
  });

  test('dup() on a closed PidFd throws ERR_PIDFD_CLOSED, and close() again does nothing', () => {
    const pidfd = PidFd.open(process.pid);
    pidfd.close();
    rejects(() => pidfd.dup(), { type: Error, code: 'ERR_PIDFD_CLOSED', names: ['dup'] });
    const fdsBefore = fdSnapshot();
    pidfd.close();
    assert.equal(fdDiff(fdsBefore, fdSnapshot()), '');
  });
});
