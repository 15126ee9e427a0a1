// spawn() failures: a program that cannot be started, or a child whose setup fails, becomes a
// SpawnError in Node's SystemError shape, and leaves no child, no zombie and no fd behind
// (TESTPLAN F1-F5, C2).

import assert from 'node:assert/strict';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { spawn, SpawnError, Subprocess } from '../../dist/index.js';
import { Fault, kTestFault } from '../../dist/internal/testing.js';
import { assertNothingLeft, collect, fdSnapshot, hasChildren, thrown, thrownNotStarted } from '../helpers/index.js';

const ENOENT = 2;
const ENOEXEC = 8;
const EACCES = 13;
const ENOTDIR = 20;
const EPROTO = 71;

let tmp;

/** stdio for children that must succeed. */
const quiet = ['ignore', 'pipe', 'pipe'];

/** Writes a file with the given mode; returns its path. */
function file(name, content, mode) {
  const path = join(tmp, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

/** Creates an empty directory under tmp; returns its path. */
function dir(name) {
  const path = join(tmp, name);
  mkdirSync(path, { recursive: true });
  return path;
}

/** Calls spawn(...args), which must throw a SpawnError synchronously and leave nothing behind. */
function spawnFailure(...args) {
  const fdsBefore = fdSnapshot();
  const error = thrownNotStarted(() => spawn(...args));
  assert.ok(error instanceof SpawnError, `expected a SpawnError, got ${error?.stack ?? error}`);
  assertNothingLeft(fdsBefore, `spawn(${JSON.stringify(args[0])})`);
  return error;
}

/** The error fs gives for the same path, to compare code and errno with. */
function fsError(path, mode = constants.F_OK) {
  return thrown(() => accessSync(path, mode));
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pidfd-errors-'));
  // Node and the addon open some fds on first use (the exit watcher, pipe handles): one real
  // spawn first, so that every snapshot afterwards sees only what a failure leaves behind.
  const { status } = await collect(spawn('/bin/sh', ['-c', 'exit 0'], { stdio: quiet }));
  assert.equal(status.code, 0);
  assert.equal(hasChildren(), false, 'children exist before the tests start');
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('spawn(): a program that does not exist (ENOENT)', () => {
  test('an absolute path that does not exist fails with ENOENT from execve, as fs reports it', () => {
    const missing = join(tmp, 'no-such-program');
    const error = spawnFailure(missing, ['--flag', 'value']);
    const expected = fsError(missing);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.code, expected.code);
    assert.equal(error.errno, -ENOENT);
    assert.equal(error.errno, expected.errno);
    assert.equal(error.syscall, 'execve');
    assert.equal(error.path, missing);
    assert.equal(error.spawnfile, missing);
    assert.deepEqual(error.spawnargs, [missing, '--flag', 'value']);
    assert.ok(error.message.includes(missing), `message does not name the path: ${error.message}`);
    assert.ok(error.message.includes('ENOENT'), `message does not name the code: ${error.message}`);
  });

  const name = `pidfd-test-no-such-program-${process.pid}`;
  const searches = [
    { title: "the parent's PATH", env: () => undefined },
    { title: 'a PATH of empty directories', env: () => ({ PATH: `${dir('empty-a')}:${dir('empty-b')}` }) },
  ];
  for (const { title, env } of searches) {
    test(`a bare name found nowhere on ${title} fails with ENOENT naming the name as given`, () => {
      const options = { env: env() };
      const error = spawnFailure(name, ['arg'], options);
      const searched = (options.env ?? process.env).PATH.split(':');
      const expected = fsError(join(searched[0] || '.', name));
      assert.equal(error.code, 'ENOENT');
      assert.equal(error.code, expected.code);
      assert.equal(error.errno, -ENOENT);
      assert.equal(error.errno, expected.errno);
      assert.equal(error.syscall, 'execve');
      assert.equal(error.path, name);
      assert.equal(error.spawnfile, name);
      assert.deepEqual(error.spawnargs, [name, 'arg']);
      assert.ok(error.message.includes(name), `message does not name the program: ${error.message}`);
    });
  }
});

describe('spawn(): a program that may not be executed (EACCES)', () => {
  test('a regular file without execute permission fails with EACCES, as fs reports it', () => {
    const marker = join(tmp, 'eacces-ran');
    const program = file('not-executable', `#!/bin/sh\ntouch '${marker}'\n`, 0o644);
    const error = spawnFailure(program, []);
    const expected = fsError(program, constants.X_OK);
    assert.equal(error.code, 'EACCES');
    assert.equal(error.code, expected.code);
    assert.equal(error.errno, -EACCES);
    assert.equal(error.errno, expected.errno);
    assert.equal(error.syscall, 'execve');
    assert.equal(error.path, program);
    assert.deepEqual(error.spawnargs, [program]);
    assert.ok(error.message.includes(program), `message does not name the path: ${error.message}`);
    assert.equal(existsSync(marker), false, 'the non-executable file was run');
  });

  test('a directory as the program fails with EACCES naming the directory', () => {
    const directory = dir('a-directory');
    const error = spawnFailure(directory, ['x']);
    assert.equal(error.code, 'EACCES');
    assert.equal(error.errno, -EACCES);
    assert.equal(error.syscall, 'execve');
    assert.equal(error.path, directory);
    assert.deepEqual(error.spawnargs, [directory, 'x']);
    assert.ok(error.message.includes(directory), `message does not name the path: ${error.message}`);
  });
});

describe('spawn(): an executable file without #! (ENOEXEC)', () => {
  const cases = [
    { title: 'by absolute path', run: (program) => [program, []] },
    {
      title: 'found on PATH (execvp would hand it to /bin/sh)',
      run: (program) => ['shebangless', [], { env: { PATH: join(program, '..') } }],
    },
  ];
  for (const [i, { title, run }] of cases.entries()) {
    test(`a shebangless executable ${title} fails with ENOEXEC and is not run through /bin/sh`, async () => {
      const marker = join(tmp, `enoexec-ran-${i}`);
      // If anything hands this file to a shell, the shell creates the marker.
      const program = file(join(`enoexec-${i}`, 'shebangless'), `touch '${marker}'\n`, 0o755);
      const [name, args, options] = run(program);
      const error = spawnFailure(name, args, options);
      assert.equal(error.errno, -ENOEXEC);
      assert.equal(error.syscall, 'execve');
      assert.equal(error.path, name);
      assert.equal(existsSync(marker), false, 'the file was run through a shell');

      // The marker proves something only if a shell really would create it.
      const { status } = await collect(spawn('/bin/sh', [program], { stdio: quiet }));
      assert.equal(status.code, 0);
      assert.equal(existsSync(marker), true, 'the fixture does not create its marker under sh');

      // Last, so that the checks above run even while the name is wrong.
      assert.equal(error.code, 'ENOEXEC');
      assert.ok(error.message.includes('ENOEXEC'), `message does not name the code: ${error.message}`);
      assert.ok(error.message.includes(name), `message does not name the program: ${error.message}`);
      assert.ok(error.message.includes('#!'), `message does not give the fix (a #! line): ${error.message}`);
    });
  }
});

describe('spawn(): PATH search follows execvp', () => {
  test('a PATH entry whose file is not executable is skipped for a later one that is', async () => {
    const first = dir('path-skip/first');
    const second = dir('path-skip/second');
    file('path-skip/first/prog', '#!/bin/sh\necho first\n', 0o644);
    file('path-skip/second/prog', '#!/bin/sh\necho second\n', 0o755);
    const { status, stdout } = await collect(
      spawn('prog', [], { env: { PATH: `${first}:${second}` }, stdio: quiet }),
    );
    assert.equal(stdout, 'second\n');
    assert.equal(status.code, 0);
    assert.equal(hasChildren(), false);
  });

  const layouts = [
    { title: 'before a directory without it', path: (a, _b, empty) => `${a}:${empty}` },
    { title: 'after a directory without it', path: (a, _b, empty) => `${empty}:${a}` },
    { title: 'in two directories', path: (a, b) => `${a}:${b}` },
  ];
  for (const { title, path } of layouts) {
    test(`a name found only as a non-executable file (${title}) fails with EACCES`, () => {
      const a = dir('path-eacces/a');
      const b = dir('path-eacces/b');
      const empty = dir('path-eacces/empty');
      file('path-eacces/a/prog', '#!/bin/sh\nexit 0\n', 0o644);
      file('path-eacces/b/prog', '#!/bin/sh\nexit 0\n', 0o600);
      const error = spawnFailure('prog', [], { env: { PATH: path(a, b, empty) } });
      assert.equal(error.code, 'EACCES');
      assert.equal(error.errno, -EACCES);
      assert.equal(error.syscall, 'execve');
      assert.equal(error.path, 'prog');
      assert.ok(error.message.includes('prog'), `message does not name the program: ${error.message}`);
    });
  }
});

describe('spawn(): the cwd option cannot be entered', () => {
  const cases = [
    {
      title: 'a directory that does not exist',
      code: 'ENOENT',
      errno: ENOENT,
      cwd: () => join(tmp, 'no-such-dir'),
    },
    { title: 'a regular file', code: 'ENOTDIR', errno: ENOTDIR, cwd: () => file('a-file', 'x', 0o644) },
    {
      title: 'a file: URL of a missing directory',
      code: 'ENOENT',
      errno: ENOENT,
      cwd: () => pathToFileURL(join(tmp, 'no-such-url-dir')),
      path: () => join(tmp, 'no-such-url-dir'),
    },
  ];
  for (const { title, code, errno, cwd, path = cwd } of cases) {
    test(`a cwd that is ${title} fails with ${code} from chdir naming the cwd`, () => {
      const wanted = path();
      const error = spawnFailure('/bin/sh', ['-c', 'exit 0'], { cwd: cwd() });
      assert.equal(error.code, code);
      assert.equal(error.errno, -errno);
      assert.equal(error.syscall, 'chdir');
      assert.equal(error.path, wanted);
      assert.equal(error.spawnfile, '/bin/sh');
      assert.deepEqual(error.spawnargs, ['/bin/sh', '-c', 'exit 0']);
      assert.ok(error.message.includes(wanted), `message does not name the cwd: ${error.message}`);
      assert.ok(error.message.includes('chdir'), `message does not name the step: ${error.message}`);
    });
  }
});

describe('spawn(): a malformed failure report from the child', () => {
  // What the hooks write (native/child.c pf_fail_corrupt): {magic, step 16, err 5, index
  // 0x41414141, check 0x42424242}, little-endian; "garbage" has a wrong magic, "short" is a
  // correct magic with half a record (fork backend) or a wrong check (shared-memory backends).
  function record(magic) {
    const b = Buffer.alloc(20);
    b.writeUInt32LE(magic, 0);
    b.writeInt32LE(16, 4);
    b.writeInt32LE(5, 8);
    b.writeUInt32LE(0x41414141, 12);
    b.writeUInt32LE(0x42424242, 16);
    return b.toString('hex');
  }
  const cases = [
    { title: 'garbage', kind: Fault.reportGarbage, full: record(0xdeadbeef), exact: true },
    { title: 'a short or unchecked record', kind: Fault.reportShort, full: record(0x70696466), exact: false },
  ];
  for (const { title, kind, full, exact } of cases) {
    test(`a report of ${title} fails with ERR_PIDFD_CHILD_REPORT showing the raw bytes`, () => {
      const error = spawnFailure('/bin/sh', ['-c', 'exit 0'], { [kTestFault]: { kind } });
      assert.equal(error.code, 'ERR_PIDFD_CHILD_REPORT');
      assert.equal(error.errno, -EPROTO);
      assert.equal(error.syscall, 'spawn');
      assert.equal(error.spawnfile, '/bin/sh');
      assert.deepEqual(error.spawnargs, ['/bin/sh', '-c', 'exit 0']);
      const shown = /\((\d+) bytes: ([0-9a-f]*)\)/.exec(error.message);
      assert.ok(shown, `message does not show the raw bytes: ${error.message}`);
      const [, length, hex] = shown;
      assert.equal(hex.length, 2 * Number(length));
      assert.ok(Number(length) > 0);
      if (exact) assert.equal(hex, full);
      else assert.ok(full.startsWith(hex), `raw bytes ${hex} are not a prefix of the record ${full}`);
    });
  }
});

describe('spawn(): failed spawns leave nothing behind', () => {
  const stdios = [
    { title: "stdio 'pipe'", stdio: 'pipe' },
    { title: "stdio 'ignore'", stdio: 'ignore' },
    { title: "stdio 'inherit'", stdio: 'inherit' },
    { title: 'a socketpair at fd 3', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
    { title: 'a passed fd', stdio: ['ignore', 2, 'ignore'] },
  ];
  const failures = [
    { title: 'a missing program', run: (stdio) => spawn(join(tmp, 'missing'), [], { stdio }) },
    { title: 'a bad cwd', run: (stdio) => spawn('/bin/sh', [], { stdio, cwd: join(tmp, 'missing') }) },
    {
      title: 'a malformed report',
      run: (stdio) => spawn('/bin/sh', [], { stdio, [kTestFault]: { kind: Fault.reportGarbage } }),
    },
  ];
  for (const failure of failures) {
    for (const { title, stdio } of stdios) {
      test(`50 spawns of ${failure.title} with ${title} leave no child, zombie or fd`, () => {
        const fdsBefore = fdSnapshot();
        for (let i = 0; i < 50; i++) {
          const error = thrownNotStarted(() => failure.run(stdio));
          assert.ok(error instanceof SpawnError, `expected a SpawnError, got ${error?.stack ?? error}`);
        }
        assertNothingLeft(fdsBefore, `${failure.title} with ${title}`);
      });
    }
  }

  test('a spawn that works after many failures is reaped and leaves nothing either', async () => {
    const fdsBefore = fdSnapshot();
    for (let i = 0; i < 20; i++) thrownNotStarted(() => spawn(join(tmp, 'missing')));
    const sub = spawn('/bin/sh', ['-c', 'exit 3'], { stdio: quiet });
    const { status } = await collect(sub);
    assert.equal(status.code, 3);
    assertNothingLeft(fdsBefore, 'after the successful spawn');
  });
});

describe('Subprocess: a child that exited leaves nothing behind', () => {
  // Node's child_process destroys stdin when the child exits; a pipe nobody writes to would
  // otherwise hold its fd for the life of the parent (the reader is gone, but an idle writable
  // never finds out).
  test("a child that exited leaves no fd behind, even when its stdin 'pipe' was never used", async () => {
    const fdsBefore = fdSnapshot();
    const sub = spawn('/bin/sh', ['-c', 'exit 0']);
    const { status } = await collect(sub);
    assert.equal(status.code, 0);
    await new Promise((resolve) => setImmediate(resolve)); // let a destroyed stream close its fd
    assertNothingLeft(fdsBefore, 'after the exit');
  });
});
