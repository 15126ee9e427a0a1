// pidfd/child_process's errors are Node's: for every bad call the same class, code and message
// (compared with node:child_process in the same process), and for every child that cannot start
// the same fields (code, errno, syscall, path, spawnargs), with nothing left behind.

import assert from 'node:assert/strict';
import * as node from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';

import * as compat from '../../dist/compat/child_process.js';
import { leakFree } from '../helpers/index.js';

const missing = 'pidfd-compat-no-such-program';

/** The observable parts of a thrown error. */
function shape(fn) {
  try {
    fn();
  } catch (error) {
    return { class: error.constructor.name, name: error.name, code: error.code, message: error.message, string: String(error) };
  }
  return 'no throw';
}

// Each case is called with one module: (cp) => cp.something(bad arguments). None of them may start
// a child (the file does not exist, so a regression fails without running anything).
const badCalls = {
  'spawn: file not a string': (cp) => cp.spawn(1),
  'spawn: empty file': (cp) => cp.spawn(''),
  'spawn: file with a NUL': (cp) => cp.spawn('a\0b'),
  'spawn: args a number': (cp) => cp.spawn(missing, 5),
  'spawn: args with a NUL': (cp) => cp.spawn(missing, ['a\0b']),
  'spawn: options a number': (cp) => cp.spawn(missing, [], 5),
  'spawn: options a function': (cp) => cp.spawn(missing, [], () => {}),
  'spawn: cwd a number': (cp) => cp.spawn(missing, [], { cwd: 5 }),
  'spawn: cwd with a NUL': (cp) => cp.spawn(missing, [], { cwd: 'a\0b' }),
  'spawn: cwd an http URL': (cp) => cp.spawn(missing, [], { cwd: new URL('http://example.com/') }),
  'spawn: detached a number': (cp) => cp.spawn(missing, [], { detached: 1 }),
  'spawn: uid a string': (cp) => cp.spawn(missing, [], { uid: 'a' }),
  'spawn: uid 1.5': (cp) => cp.spawn(missing, [], { uid: 1.5 }),
  'spawn: uid a long string': (cp) => cp.spawn(missing, [], { uid: 'x'.repeat(40) }),
  'spawn: uid a class': (cp) => cp.spawn(missing, [], { uid: class Foo {} }),
  'spawn: gid an object': (cp) => cp.spawn(missing, [], { gid: {} }),
  'spawn: shell a number': (cp) => cp.spawn(missing, [], { shell: 5 }),
  'spawn: shell with a NUL': (cp) => cp.spawn(missing, [], { shell: 'sh\0' }),
  'spawn: argv0 a number': (cp) => cp.spawn(missing, [], { argv0: 1 }),
  'spawn: windowsHide a string': (cp) => cp.spawn(missing, [], { windowsHide: 'yes' }),
  'spawn: windowsVerbatimArguments a number': (cp) => cp.spawn(missing, [], { windowsVerbatimArguments: 0 }),
  'spawn: timeout -1': (cp) => cp.spawn(missing, [], { timeout: -1 }),
  'spawn: timeout 1.5': (cp) => cp.spawn(missing, [], { timeout: 1.5 }),
  'spawn: timeout a string': (cp) => cp.spawn(missing, [], { timeout: '5' }),
  'spawn: killSignal unknown': (cp) => cp.spawn(missing, [], { killSignal: 'SIGNOPE' }),
  'spawn: killSignal 999': (cp) => cp.spawn(missing, [], { killSignal: 999 }),
  'spawn: killSignal an object': (cp) => cp.spawn(missing, [], { killSignal: {} }),
  'spawn: signal a number': (cp) => cp.spawn(missing, [], { signal: 1 }),
  'spawn: stdio a bad string': (cp) => cp.spawn(missing, [], { stdio: 'foo' }),
  'spawn: stdio an object': (cp) => cp.spawn(missing, [], { stdio: {} }),
  'spawn: stdio entry an object': (cp) => cp.spawn(missing, [], { stdio: [{}] }),
  'spawn: stdio entry a Buffer': (cp) => cp.spawn(missing, [], { stdio: [Buffer.from('a')] }),
  'spawn: two ipc entries': (cp) => cp.spawn(missing, [], { stdio: ['ipc', 'ipc'] }),
  'spawn: serialization unknown': (cp) => cp.spawn(missing, [], { serialization: 'xml' }),
  'spawn: env value with a NUL': (cp) => cp.spawn(missing, [], { env: { A: 'a\0' } }),
  'spawn: env key with a NUL': (cp) => cp.spawn(missing, [], { env: { 'A\0': 'a' } }),
  'execFile: callback a number': (cp) => cp.execFile(missing, [], {}, 5),
  'execFile: options a string': (cp) => cp.execFile(missing, [], 'x'),
  'execFile: args a string': (cp) => cp.execFile(missing, 'x'),
  'execFile: maxBuffer -1': (cp) => cp.execFile(missing, [], { maxBuffer: -1 }),
  'execFile: maxBuffer a string': (cp) => cp.execFile(missing, [], { maxBuffer: '1' }),
  'execFile: timeout -5': (cp) => cp.execFile(missing, [], { timeout: -5 }),
  'execFile: argv0 a number': (cp) => cp.execFile(missing, [], { argv0: 2 }),
  'exec: command a number': (cp) => cp.exec(5),
  'exec: command with a NUL': (cp) => cp.exec('a\0'),
  'fork: modulePath a number': (cp) => cp.fork(5),
  'fork: no ipc in stdio': (cp) => cp.fork(missing, { stdio: ['pipe', 'pipe', 'pipe'] }),
  'fork: args a string': (cp) => cp.fork(missing, 'x'),
  'fork: execPath with a NUL': (cp) => cp.fork(missing, [], { execPath: 'node\0' }),
  'fork: execArgv with a NUL': (cp) => cp.fork(missing, [], { execArgv: ['--a\0'] }),
  'spawnSync: input a number': (cp) => cp.spawnSync(missing, [], { input: 5 }),
  'spawnSync: ipc': (cp) => cp.spawnSync(missing, [], { stdio: ['ipc'] }),
  'spawnSync: maxBuffer NaN': (cp) => cp.spawnSync(missing, [], { maxBuffer: NaN }),
  'spawnSync: killSignal unknown': (cp) => cp.spawnSync(missing, [], { killSignal: 'SIGNOPE' }),
  'spawnSync: stdio a bad string': (cp) => cp.spawnSync(missing, [], { stdio: 'bad' }),
  'execSync: command a number': (cp) => cp.execSync(5),
  'execFileSync: options a number': (cp) => cp.execFileSync(missing, [], 5),
  'ChildProcess.spawn: options null': (cp) => new cp.ChildProcess().spawn(null),
  'ChildProcess.spawn: file a number': (cp) => new cp.ChildProcess().spawn({ file: 1 }),
  'ChildProcess.spawn: args a string': (cp) => new cp.ChildProcess().spawn({ file: missing, args: 'x' }),
  'ChildProcess.spawn: envPairs a string with ipc': (cp) =>
    new cp.ChildProcess().spawn({ file: missing, envPairs: 'x', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }),
};

describe('validation errors', () => {
  for (const [name, call] of Object.entries(badCalls)) {
    test(`${name}: the same error as Node's`, () => {
      const expected = shape(() => call(node));
      assert.notEqual(expected, 'no throw', 'the case must be one that Node refuses');
      assert.deepEqual(shape(() => call(compat)), expected);
    });
  }
});

/** The fields of an error that a program reads (the stack aside). */
function fields(error) {
  return { class: error.constructor.name, message: error.message, keys: Object.keys(error), ...error };
}

/** The 'error' event of a child that cannot start, and what came before 'close'. */
function asyncFailure(cp, ...args) {
  return new Promise((resolve) => {
    const events = [];
    const child = cp.spawn(...args);
    const pid = child.pid;
    child.on('spawn', () => events.push('spawn'));
    child.on('exit', () => events.push('exit'));
    child.on('error', (error) => events.push(['error', fields(error)]));
    child.on('close', (code, signal) => {
      events.push(['close', code, signal]);
      resolve({ pid, events, exitCode: child.exitCode, stdio: child.stdio.map((s) => s === null ? null : typeof s) });
    });
  });
}

describe('a child that cannot start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pidfd-compat-'));
  const notExecutable = join(dir, 'not-executable');
  writeFileSync(notExecutable, '#!/bin/sh\n');
  chmodSync(notExecutable, 0o644);
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases = {
    'a missing program (ENOENT)': [missing, ['a', 'b']],
    'a missing program with IPC (ENOENT)': [missing, [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] }],
    'a file that is not executable (EACCES)': [notExecutable, []],
    'a missing working directory (ENOENT)': ['/bin/true', [], { cwd: join(dir, 'missing') }],
    'a missing program with stdio ignored': [missing, [], { stdio: 'ignore' }],
  };
  for (const [name, args] of Object.entries(cases)) {
    test(`${name}: 'error' then 'close', as Node's, and nothing left behind`, leakFree(async () => {
      const expected = await asyncFailure(node, ...args);
      const actual = await asyncFailure(compat, ...args);
      assert.deepEqual(actual, expected);
    }));
  }

  test('a closed fd as stdio throws at once, as Node does (EBADF), and leaves nothing', leakFree(() => {
    const expected = shape(() => node.spawn('/bin/true', [], { stdio: ['ignore', 1000, 'ignore'] }));
    assert.equal(expected.code, 'EBADF');
    assert.deepEqual(shape(() => compat.spawn('/bin/true', [], { stdio: ['ignore', 1000, 'ignore'] })), expected);
  }));

  test('spawnSync of a missing program: the result and its error are Node\'s', leakFree(() => {
    const strip = (r) => ({ ...r, keys: Object.keys(r), error: fields(r.error) });
    assert.deepEqual(strip(compat.spawnSync(missing, ['x'])), strip(node.spawnSync(missing, ['x'])));
  }));

  test('execFileSync of a missing program throws Node\'s error (err.error is the error itself)', leakFree(() => {
    const catchIt = (cp) => {
      try {
        cp.execFileSync(missing, ['y'], { stdio: 'pipe' });
      } catch (error) {
        return { ...fields(error), error: error.error === error };
      }
      return 'no throw';
    };
    assert.deepEqual(catchIt(compat), catchIt(node));
  }));

  test('execFile of a missing program: the callback gets Node\'s error, and promisify rejects with it', leakFree(async () => {
    const viaCallback = (cp) =>
      new Promise((resolve) => cp.execFile(missing, ['z'], (error, stdout, stderr) => resolve({ ...fields(error), stdout, stderr })));
    assert.deepEqual(await viaCallback(compat), await viaCallback(node));
    const viaPromise = (cp) => promisify(cp.execFile)(missing, ['z']).catch((error) => fields(error));
    assert.deepEqual(await viaPromise(compat), await viaPromise(node));
  }));
});

describe('a command that fails', () => {
  test('exec: "Command failed" with code, killed, signal, cmd, and the output', async () => {
    const run = (cp) =>
      new Promise((resolve) =>
        cp.exec('echo out; echo err >&2; exit 3', (error, stdout, stderr) => resolve({ ...fields(error), stdout, stderr })),
      );
    assert.deepEqual(await run(compat), await run(node));
  });

  test('execSync: "Command failed" with status, signal, output, stdout, stderr (pid aside)', () => {
    const run = (cp) => {
      try {
        cp.execSync('echo out; echo err >&2; exit 4', { stdio: 'pipe' });
      } catch (error) {
        const { pid, ...rest } = fields(error);
        assert.equal(typeof pid, 'number');
        return rest;
      }
      return 'no throw';
    };
    assert.deepEqual(run(compat), run(node));
  });

  test('execFile past maxBuffer: ERR_CHILD_PROCESS_STDIO_MAXBUFFER, the output cut at maxBuffer', async () => {
    const run = (cp) =>
      new Promise((resolve) =>
        cp.execFile('/bin/sh', ['-c', 'printf 0123456789; sleep 5'], { maxBuffer: 4 }, (error, stdout, stderr) =>
          resolve({ ...fields(error), stdout, stderr }),
        ),
      );
    const actual = await run(compat);
    assert.equal(actual.code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
    assert.equal(actual.stdout, '0123');
    assert.deepEqual(actual, await run(node));
  });
});
