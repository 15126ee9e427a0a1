// spawn() (src/process/spawn.ts): which program runs (execvp's PATH rules, without its shell
// fallback), the errors for one that cannot, its arguments, and one child per call (case ids
// from docs/reliability.md: F1-F3, G1, G2, G5, G6).

import assert from 'node:assert/strict';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import {
  assertSpawnError,
  childPids,
  collect,
  hasChildren,
  killAtEnd,
  refused,
  root,
  spawnFailure,
  thrown,
  warmUp,
} from '../helpers/index.js';

const ENOENT = 2;
const ENOEXEC = 8;
const EACCES = 13;

let tmp;

/** stdio for children that must succeed: no stdin pipe, which would stay open after the exit. */
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

/** The error fs gives for the same path, to compare code and errno with. */
function fsError(path, mode = constants.F_OK) {
  return thrown(() => accessSync(path, mode));
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pidfd-spawn-'));
  await warmUp();
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('spawn(): file that does not exist (ENOENT)', () => {
  test('F1: an absolute path that does not exist fails with ENOENT from execve, as fs reports it', () => {
    const missing = join(tmp, 'no-such-program');
    const error = spawnFailure(missing, ['--flag', 'value']);
    assertSpawnError(error, {
      code: 'ENOENT',
      errno: -ENOENT,
      syscall: 'execve',
      path: missing,
      spawnfile: missing,
      spawnargs: [missing, '--flag', 'value'],
      names: [missing, 'ENOENT'],
    });
    const expected = fsError(missing);
    assert.deepEqual([error.code, error.errno], [expected.code, expected.errno]);
  });

  const name = `pidfd-test-no-such-program-${process.pid}`;
  const searches = [
    { title: "the parent's PATH", env: () => undefined },
    { title: 'a PATH of empty directories', env: () => ({ PATH: `${dir('empty-a')}:${dir('empty-b')}` }) },
  ];
  for (const { title, env } of searches) {
    test(`F1: a bare name found nowhere on ${title} fails with ENOENT naming the name as given`, () => {
      const options = { env: env() };
      const error = spawnFailure(name, ['arg'], options);
      assertSpawnError(error, {
        code: 'ENOENT',
        errno: -ENOENT,
        syscall: 'execve',
        path: name,
        spawnfile: name,
        spawnargs: [name, 'arg'],
        names: [name],
      });
      const searched = (options.env ?? process.env).PATH.split(':');
      const expected = fsError(join(searched[0] || '.', name));
      assert.deepEqual([error.code, error.errno], [expected.code, expected.errno]);
    });
  }
});

describe('spawn(): file that may not be executed (EACCES)', () => {
  test('F2: a regular file without execute permission fails with EACCES, as fs reports it', () => {
    const marker = join(tmp, 'eacces-ran');
    const program = file('not-executable', `#!/bin/sh\ntouch '${marker}'\n`, 0o644);
    const error = spawnFailure(program, []);
    assertSpawnError(error, {
      code: 'EACCES',
      errno: -EACCES,
      syscall: 'execve',
      path: program,
      spawnargs: [program],
      names: [program],
    });
    const expected = fsError(program, constants.X_OK);
    assert.deepEqual([error.code, error.errno], [expected.code, expected.errno]);
    assert.equal(existsSync(marker), false, 'the non-executable file was run');
  });

  test('F2: a directory as the program fails with EACCES naming the directory', () => {
    const directory = dir('a-directory');
    assertSpawnError(spawnFailure(directory, ['x']), {
      code: 'EACCES',
      errno: -EACCES,
      syscall: 'execve',
      path: directory,
      spawnargs: [directory, 'x'],
      names: [directory],
    });
  });
});

describe('spawn(): file without #! (ENOEXEC)', () => {
  const cases = [
    { title: 'by absolute path', run: (program) => [program, []] },
    {
      title: 'found on PATH (execvp would hand it to /bin/sh)',
      run: (program) => ['shebangless', [], { env: { PATH: join(program, '..') } }],
    },
  ];
  for (const [i, { title, run }] of cases.entries()) {
    test(`F3: a shebangless executable ${title} fails with ENOEXEC and is not run through /bin/sh`, async () => {
      const marker = join(tmp, `enoexec-ran-${i}`);
      // If anything hands this file to a shell, the shell creates the marker.
      const program = file(join(`enoexec-${i}`, 'shebangless'), `touch '${marker}'\n`, 0o755);
      const [name, args, options] = run(program);
      const error = spawnFailure(name, args, options);
      assertSpawnError(error, { errno: -ENOEXEC, syscall: 'execve', path: name });
      assert.equal(existsSync(marker), false, 'the file was run through a shell');

      // The marker proves something only if a shell really would create it.
      const { status } = await collect(spawn('/bin/sh', [program], { stdio: quiet }));
      assert.equal(status.code, 0);
      assert.equal(existsSync(marker), true, 'the fixture does not create its marker under sh');

      // Last, so that the checks above run even while the name is wrong.
      assertSpawnError(error, { code: 'ENOEXEC', names: ['ENOEXEC', name, '#!'] });
    });
  }
});

describe('spawn(): file, searched on PATH as execvp does', () => {
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
    test(`F2: a name found only as a non-executable file (${title}) fails with EACCES`, () => {
      const a = dir('path-eacces/a');
      const b = dir('path-eacces/b');
      const empty = dir('path-eacces/empty');
      file('path-eacces/a/prog', '#!/bin/sh\nexit 0\n', 0o644);
      file('path-eacces/b/prog', '#!/bin/sh\nexit 0\n', 0o600);
      assertSpawnError(spawnFailure('prog', [], { env: { PATH: path(a, b, empty) } }), {
        code: 'EACCES',
        errno: -EACCES,
        syscall: 'execve',
        path: 'prog',
        names: ['prog'],
      });
    });
  }
});

describe('spawn(): file and args', () => {
  const missing = [
    { title: 'an empty string', file: '' },
    { title: 'undefined', file: undefined },
  ];
  for (const { title, file } of missing) {
    test(`G2: ${title} as the program throws ERR_INVALID_ARG_VALUE: no program given`, () => {
      refused(() => spawn(file, []), {
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
      refused(() => spawn(file, []), {
        type: TypeError,
        code: 'ERR_INVALID_ARG_TYPE',
        names: ['`file`', shown],
      });
    });
  }

  test('an argument that is not a string throws ERR_INVALID_ARG_TYPE naming its index', () => {
    refused(() => spawn('/bin/sh', ['-c', 7]), {
      type: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
      names: ['`args[1]`', '7'],
    });
  });
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
    test(`G1: a NUL byte in ${field} throws ERR_INVALID_ARG_VALUE naming ${name}`, () => {
      refused(call, { type: TypeError, code: 'ERR_INVALID_ARG_VALUE', names: [name, 'NUL'] });
    });
  }
});

describe('spawn(): each call', () => {
  // spawn() returns a started Subprocess, so there is no second start to refuse (case G5):
  // what a user relies on instead is one call, one child.
  test('G5: each spawn() call starts exactly one child', async (t) => {
    assert.deepEqual(childPids(), []);
    const first = killAtEnd(t, spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] }));
    assert.deepEqual(childPids(), [first.pid]);
    const second = killAtEnd(t, spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] }));
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

  test('G6: the child sees args, env and cwd as they were at spawn(), not as changed after', async () => {
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

test('the main example runs', async () => {
  const sub = spawn(process.execPath, [join(root, 'examples', 'spawn.mjs')]);
  const { status, stdout } = await collect(sub);
  assert.equal(status.code, 0);
  assert.match(stdout, /exited with code 0/);
});
