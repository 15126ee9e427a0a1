// Output to several places at once (`stdout: ['pipe', { file }, 'inherit']`, copied by
// native/tee.c's thread with tee(2)/splice(2)) and line transforms of captured output.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { run, RunError, runSync } from '../../dist/index.js';
import { leakFree, runFixtures, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pidfd-tee-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** This process's tee threads (native/tee.c names them). */
const teeThreads = () =>
  readdirSync('/proc/self/task').filter((t) => { try { return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'pidfd-tee'; } catch { return false; } }).length;

describe('output to several places at once', () => {
  test('capture, a file and inherit get the same 8 MiB, byte for byte', () => {
    // In a process of its own, whose stdout (what 'inherit' writes to) is a file here.
    const log = join(dir, 'build.log');
    const captured = join(dir, 'captured.bin');
    const shown = join(dir, 'shown.bin');
    const fd = openSync(shown, 'w');
    try {
      execFileSync(process.execPath, [join(runFixtures, 'tee-child.mjs'), String(8 << 20), log, captured], { stdio: ['ignore', fd, 'inherit'] });
    } finally {
      closeSync(fd);
    }
    const bytes = readFileSync(captured);
    assert.equal(bytes.length, 8 << 20);
    assert.ok(readFileSync(log).equals(bytes), 'the file has the captured bytes');
    assert.ok(readFileSync(shown).equals(bytes), "this process's stdout has the captured bytes");
  });

  test('a file is truncated, or appended to with append: true; stderr too', leakFree(async () => {
    const file = join(dir, 'out.log');
    writeFileSync(file, 'old\n');
    const first = await run('sh', ['-c', 'echo one; echo err >&2'], { stdout: ['pipe', { file }], stderr: ['pipe', { file: join(dir, 'err.log') }] });
    assert.equal(first.stdout, 'one');
    assert.equal(first.stderr, 'err');
    assert.equal(readFileSync(file, 'utf8'), 'one\n', 'truncated');
    assert.equal(readFileSync(join(dir, 'err.log'), 'utf8'), 'err\n');
    await run('echo', ['two'], { stdout: [{ file, append: true }, 'pipe'] });
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n', 'appended (a file splice cannot write: copied by the thread)');
  }));

  test('two files and no capture: the run ends once both are written', leakFree(async () => {
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    const result = await run('head', ['-c', String(3 << 20), '/dev/zero'], { stdout: [{ file: a }, { file: b }] });
    assert.equal(result.stdout, undefined);
    assert.equal(readFileSync(a).length, 3 << 20);
    assert.equal(readFileSync(b).length, 3 << 20);
  }));

  test('a file that cannot be opened: an error with its path, nothing started, nothing left open', leakFree(async () => {
    const marker = join(dir, 'started');
    const error = await run('touch', [marker], { stdout: ['pipe', { file: join(dir, 'no', 'such', 'dir', 'x.log') }, 'inherit'] }).catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.cause.code, 'ENOENT');
    assert.equal(error.cause.path, join(dir, 'no', 'such', 'dir', 'x.log'));
    assert.equal(existsSync(marker), false, 'the command never started');
  }));

  test('a place that fails (/dev/full): the run fails saying which, the others still get everything', { skip: !existsSync('/dev/full') && 'no /dev/full' }, leakFree(async () => {
    const file = join(dir, 'ok.log');
    const error = await run('echo', ['hi'], { stdout: ['pipe', { file: '/dev/full' }, { file }] }).catch((e) => e);
    assert.ok(error instanceof RunError, `rejected: ${error}`);
    assert.equal(error.cause.code, 'ENOSPC');
    assert.equal(error.cause.path, '/dev/full');
    assert.equal(error.stdout, 'hi');
    assert.equal(readFileSync(file, 'utf8'), 'hi\n');
  }));

  test('what cannot be one of several places is refused before anything starts', () => {
    assert.throws(() => run('true', { stdout: ['pipe', 'ignore'] }), { code: 'ERR_INVALID_ARG_VALUE', message: /stdout\[1\].*cannot be one of several places/ });
    assert.throws(() => run('true', { stdout: ['stream', 'pipe'] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => run('true', { stdout: [] }), { code: 'ERR_INVALID_ARG_VALUE', message: /must not be empty/ });
    assert.throws(() => run('true', { stdout: ['pipe', { file: 'x', mode: 1 }] }), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('the tee thread ends with its run: no thread, no fd left', leakFree(async () => {
    await run('head', ['-c', String(1 << 20), '/dev/zero'], { stdout: ['pipe', { file: join(dir, 'z.log') }] });
    await until(() => teeThreads() === 0, 'the tee thread to end');
  }));
});

describe('transforms of captured lines', () => {
  test('a function maps each line, undefined drops it', leakFree(async () => {
    const result = await run('printf', ['a\\nb\\nc\\n'], { stdout: (line) => (line === 'b' ? undefined : line.toUpperCase()) });
    assert.equal(result.stdout, 'A\nC');
  }));

  test('a generator yields 0 to n lines for each, with lines: true; transforms run in order', leakFree(async () => {
    const result = await run('printf', ['1\\n2\\n3\\n'], {
      lines: true,
      stdout: [function* (line) { for (let i = 0; i < Number(line) - 1; i++) yield line; }, (line) => `<${line}>`, 'pipe'],
      stderr: function* () {},
    });
    assert.deepEqual(result.stdout, ['<2>', '<3>', '<3>']);
    assert.deepEqual(result.stderr, []);
  }));

  test('a transform that throws, or yields what is not a string, fails the run with its error', leakFree(async () => {
    const thrown = await run('echo', ['x'], { stdout: () => { throw new Error('boom'); } }).catch((e) => e);
    assert.ok(thrown instanceof RunError);
    assert.match(thrown.message, /transform of its output threw \(boom\)/);
    const wrong = await run('echo', ['x'], { stdout: function* () { yield 1; } }).catch((e) => e);
    assert.equal(wrong.cause.code, 'ERR_INVALID_ARG_TYPE');
  }));

  test('what a transform cannot do is refused before anything starts', () => {
    assert.throws(() => run('true', { stdout: [(l) => l, { file: 'x.log' }] }), { code: 'ERR_INVALID_ARG_VALUE', message: /transform changes only the captured lines/ });
    assert.throws(() => run('true', { stdout: (l) => l, encoding: 'buffer' }), { code: 'ERR_INVALID_ARG_VALUE', message: /cannot transform lines/ });
    assert.throws(() => run('true', { stdout: (l) => l, all: true }), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('runSync', () => {
  test('several places are refused before anything starts; a transform works', leakFree(async () => {
    const marker = join(dir, 'sync-started');
    assert.throws(() => runSync('touch', [marker], { stdout: ['pipe', { file: join(dir, 'sync.log') }] }), {
      code: 'ERR_INVALID_ARG_VALUE',
      message: /cannot be several places in runSync\(\)/,
    });
    assert.equal(existsSync(marker), false, 'the command never started');
    assert.equal(existsSync(join(dir, 'sync.log')), false, 'the file was not opened');
    assert.equal(runSync('printf', ['a\\nb\\n'], { stdout: (line) => `${line}!` }).stdout, 'a!\nb!');
  }));
});
