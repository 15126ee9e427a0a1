// Errors (src/errors.ts): errno names and descriptions where libuv has none, Node's SystemError
// shape, SpawnError, and the validation messages that name the option and the value.

import assert from 'node:assert/strict';
import { accessSync } from 'node:fs';
import { before, describe, test } from 'node:test';

import { SpawnError } from '../dist/index.js';
import {
  describe as describeValue,
  errnoDescription,
  errnoName,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  systemError,
} from '../dist/errors.js';
import { spawnFailure, thrown, warmUp } from './helpers/index.js';

before(warmUp);

describe('errnoName(), errnoDescription()', () => {
  // libuv's table, which Node's errors use, lacks some errnos the kernel gives (item 9 of
  // docs/reliability.md: these read "E8: error 8" before).
  const table = [
    [2, 'ENOENT', 'no such file or directory'],
    [8, 'ENOEXEC', 'exec format error'],
    [10, 'ECHILD', 'no child processes'],
    [13, 'EACCES', 'permission denied'],
    [66, 'EREMOTE', 'object is remote'],
    [116, 'ESTALE', 'stale file handle'],
    [9999, 'E9999', 'error 9999'],
  ];
  for (const [errno, name, description] of table) {
    test(`errno ${errno} is ${name}: ${description}`, () => {
      assert.equal(errnoName(errno), name);
      assert.equal(errnoDescription(errno), description);
    });
  }
});

describe('systemError()', () => {
  test("has the fields and the message of Node's own error for the same call", () => {
    const path = '/nonexistent/pidfd-errors-test';
    const node = thrown(() => accessSync(path));
    const ours = systemError(2, 'access', { path });
    assert.ok(ours instanceof Error);
    assert.deepEqual([ours.code, ours.errno, ours.syscall, ours.path], [node.code, node.errno, node.syscall, node.path]);
    assert.equal(ours.message, node.message);
  });

  test('a context comes first in the message; no path, no path field', () => {
    const error = systemError(3, 'pidfd_send_signal', { context: 'kill pid 7' });
    assert.equal(error.message, 'kill pid 7: ESRCH: no such process, pidfd_send_signal');
    assert.equal('path' in error, false);
    assert.equal(error.errno, -3);
  });
});

describe('SpawnError', () => {
  test('is an Error named SpawnError, with the SystemError fields and the spawn it belongs to', () => {
    const error = spawnFailure('/nonexistent/program', ['a', 'b']);
    assert.ok(error instanceof SpawnError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'SpawnError');
    assert.equal(Object.prototype.toString.call(error), '[object Error]');
    assert.deepEqual(
      [error.code, error.errno, error.syscall, error.path, error.spawnfile, error.spawnargs],
      ['ENOENT', -2, 'execve', '/nonexistent/program', '/nonexistent/program', ['/nonexistent/program', 'a', 'b']],
    );
    assert.equal(error.message, "spawn /nonexistent/program ENOENT: no such file or directory, execve '/nonexistent/program'");
    assert.match(error.stack, /^SpawnError: spawn \/nonexistent\/program ENOENT/);
  });

  test('has no fd or path when the failing step had none', () => {
    const error = spawnFailure('/bin/true', [], { processGroup: 0x7ffffff0 });
    assert.equal(error.syscall, 'setpgid');
    assert.equal(error.fd, undefined);
    assert.equal(error.path, undefined);
    assert.equal(error.message, 'spawn /bin/true EPERM: operation not permitted, setpgid');
  });
});

describe('Errors thrown for bad arguments', () => {
  test('invalidArgType() is a TypeError with ERR_INVALID_ARG_TYPE, naming the option, the want and the value', () => {
    const error = invalidArgType('cwd', 42, 'a string or a file: URL');
    assert.equal(error.constructor, TypeError);
    assert.equal(error.code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(error.message, 'The `cwd` option must be a string or a file: URL; got 42');
  });

  test('outOfRange() is a RangeError with ERR_OUT_OF_RANGE', () => {
    const error = outOfRange('uid', -1, 'an integer from 0 to 4294967294');
    assert.equal(error.constructor, RangeError);
    assert.equal(error.code, 'ERR_OUT_OF_RANGE');
    assert.equal(error.message, 'The `uid` option must be an integer from 0 to 4294967294; got -1');
  });

  test('invalidArgValue() is a TypeError with ERR_INVALID_ARG_VALUE, saying what is wrong; an argument is called one', () => {
    const error = invalidArgValue('file', '', 'must not be empty', 'argument');
    assert.equal(error.constructor, TypeError);
    assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(error.message, 'The `file` argument must not be empty; got ""');
  });

  const values = [
    ['a string', 'abc', '"abc"'],
    ['a long string', 'x'.repeat(100), JSON.stringify(`${'x'.repeat(57)}...`)],
    ['a bigint', 10n, '10n'],
    ['a number', 1.5, '1.5'],
    ['NaN', NaN, 'NaN'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a boolean', false, 'false'],
    ['a function', () => {}, 'a function'],
    ['an array', [1, 2], 'an array of length 2'],
    ['a Map', new Map(), 'an instance of Map'],
    ['an object without a prototype', Object.create(null), 'an object'],
  ];
  for (const [title, value, shown] of values) {
    test(`${title} is shown in a message as ${shown}`, () => {
      assert.equal(describeValue(value), shown);
    });
  }
});
