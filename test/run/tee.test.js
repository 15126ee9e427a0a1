// Output to several places at once (`stdout: ['pipe', { file }, 'inherit']`, copied by
// native/tee.c's thread with tee(2)/splice(2)) and line transforms of captured output.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { run, RunError, runSync } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import { leakFree, python, runFixtures, until } from './helpers.js';

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

/** A pipe or a socketpair from the addon (blocking, as a program would hand one over), whose
 * write end is full: nobody reads it. Closed by close(). */
function unread(kind) {
  const ends = kind === 'socket' ? native().socketpair() : native().pipe();
  assert.ok(typeof ends !== 'number', `${kind}: ${ends}`);
  const [reader, writer] = ends;
  assert.ok(native().test.fill(writer) > 0, `the ${kind} was filled`);
  return { writer, reader, close: () => { native().close(reader); native().close(writer); } };
}

/** Waits until a file has bytes: the tee's thread has begun copying. */
const hasBytes = (file) => until(() => existsSync(file) && statSync(file).size > 0, `${file} to get bytes`);

describe('a place that nobody reads', () => {
  for (const kind of ['pipe', 'socket']) {
    test(`a blocking ${kind} given as an fd: kill() ends the run, which says which place lost the rest; no thread, no fd left`, leakFree(async () => {
      const place = unread(kind);
      try {
        const file = join(dir, `unread-${kind}.log`);
        const running = run('head', ['-c', String(8 << 20), '/dev/zero'], { stdout: [{ file }, place.writer] });
        await hasBytes(file); // the same bytes wait for the full place
        running.kill();
        const error = await running.catch((e) => e);
        assert.ok(error instanceof RunError, `rejected: ${error}`);
        assert.equal(error.isTerminated, true);
        assert.equal(error.cause.code, 'EAGAIN');
        assert.equal(error.cause.syscall, kind === 'socket' ? 'send' : 'splice');
        assert.match(error.message, new RegExp(`stdout to fd ${place.writer} was not read when the run was killed, and lost the rest`));
        await until(() => teeThreads() === 0, 'the tee thread to end');
      } finally {
        place.close();
      }
    }));
  }

  test('a command that has exited and a place that does not read: a cancel, or the timeout, ends the run', leakFree(async () => {
    const place = unread('pipe');
    try {
      const controller = new AbortController();
      const file = join(dir, 'canceled.log');
      const canceled = run('echo', ['hi'], { stdout: [{ file }, place.writer], signal: controller.signal });
      await canceled.subprocess.exited; // its line waits for the full place: the run cannot end
      controller.abort();
      const error = await canceled.catch((e) => e);
      assert.ok(error instanceof RunError, `rejected: ${error}`);
      assert.equal(error.isCanceled, true); // its cause is the abort's; the message says the rest
      assert.match(error.message, /was canceled.*; its output could not be written whole \(stdout to fd \d+ was not read when the run was killed/);
      assert.equal(readFileSync(file, 'utf8'), 'hi\n', 'the place that reads has everything');

      const timedFile = join(dir, 'timed-out.log');
      const timedOut = await run('echo', ['hi'], { stdout: [{ file: timedFile }, place.writer], timeout: 100 }).catch((e) => e);
      assert.ok(timedOut instanceof RunError, `rejected: ${timedOut}`);
      assert.equal(timedOut.timedOut, true);
      // Whenever the timer came, bytes that reached the file waited for the full place too.
      if (readFileSync(timedFile).length > 0) {
        assert.equal(timedOut.cause.code, 'EAGAIN');
        assert.match(timedOut.message, /timed out after 100 ms.*; its output could not be written whole \(stdout to fd \d+ was not read/);
      }
      await until(() => teeThreads() === 0, 'the tee thread to end');
    } finally {
      place.close();
    }
  }));

  test("'inherit' onto a pipe that nobody reads: kill() ends the run, which says so", () => {
    const place = unread('pipe');
    let child;
    try {
      // Its stdout, which 'inherit' writes to, is the full pipe; it reports on stderr.
      child = spawnSync(process.execPath, [join(runFixtures, 'tee-unread.mjs'), join(dir, 'inherit-unread.log')], { stdio: ['ignore', place.writer, 'pipe'], encoding: 'utf8' });
    } finally {
      place.close();
    }
    assert.equal(child.status, 0, child.stderr);
    const { code, syscall, message, threads } = JSON.parse(child.stderr.trim().split('\n').at(-1));
    assert.equal(code, 'EAGAIN');
    assert.equal(syscall, 'splice');
    assert.match(message, /stdout to this process's stdout was not read when the run was killed/);
    assert.equal(threads, 0);
  });

  test("'inherit' onto a terminal that nobody reads (a pty's master): kill() ends the run; the thread was not stuck in a write", { skip: !python && 'no python3 for a pty' }, () => {
    // The pty is made by python (Node has no openpty); its master is never read, and it is filled
    // first (through a non-blocking open of its own). The terminal the fixture inherits is
    // blocking: the thread writes a copy of its own, non-blocking.
    const script = [
      'import os, pty, select, subprocess, sys, tty',
      'm, s = pty.openpty()',
      'tty.setraw(s)',
      'w = os.open(os.ttyname(s), os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)',
      'while True:', // until it stays full: the kernel moves some of it on to the master's side
      '  try:',
      '    while True: os.write(w, bytes(4096))',
      '  except BlockingIOError: pass',
      '  if not select.select([], [w], [], 0.2)[1]: break',
      'os.close(w)',
      'p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=s, stderr=subprocess.PIPE)',
      'sys.stderr.write(p.stderr.decode())',
      'sys.exit(p.returncode)',
    ].join('\n');
    const child = spawnSync(python, ['-c', script, process.execPath, join(runFixtures, 'tee-unread.mjs'), join(dir, 'tty-unread.log')], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { code, message, threads } = JSON.parse(child.stderr.trim().split('\n').at(-1));
    assert.equal(code, 'EAGAIN');
    assert.match(message, /stdout to this process's stdout was not read when the run was killed/);
    assert.equal(threads, 0);
  });

  test('a blocking socket that reads gets every byte, in order', leakFree(async () => {
    const [mine, theirs] = native().socketpair();
    const reader = new Socket({ fd: theirs, readable: true, writable: false }); // its own end only goes non-blocking
    const size = 4 << 20;
    const chunks = [];
    let got = 0;
    const all = new Promise((resolve) => reader.on('data', (chunk) => { chunks.push(chunk); got += chunk.length; if (got >= size) resolve(); }));
    try {
      const result = await run('head', ['-c', String(size), '/dev/urandom'], { encoding: 'buffer', stdout: ['pipe', mine] });
      await all;
      assert.equal(result.stdout.length, size);
      assert.ok(Buffer.concat(chunks).equals(result.stdout), 'the socket has the captured bytes');
    } finally {
      reader.destroy();
      native().close(mine);
    }
    await once(reader, 'close');
  }));
});

describe('a failure of the copying itself', () => {
  const { teeCall } = native().constants;
  const ENOMEM = osConstants.errno.ENOMEM;

  test('tee() fails (ENOMEM): the run fails with it, naming the place; the capture still gets every byte', leakFree(async () => {
    const file = join(dir, 'enomem.log');
    native().test.teeFault(teeCall.tee, ENOMEM, 1);
    const error = await run('head', ['-c', String(1 << 20), '/dev/urandom'], { encoding: 'buffer', stdout: ['pipe', { file }] }).catch((e) => e);
    assert.ok(error instanceof RunError, `rejected: ${error}`);
    assert.equal(error.cause.code, 'ENOMEM');
    assert.equal(error.cause.syscall, 'tee');
    assert.equal(error.cause.path, file);
    assert.equal(error.stdout.length, 1 << 20);
  }));

  test('poll() fails: the copying ends, and the run fails with that error', leakFree(async () => {
    native().test.teeFault(teeCall.poll, ENOMEM, 1);
    const error = await run('yes', { stdout: ['pipe', { file: join(dir, 'poll.log') }] }).catch((e) => e);
    assert.ok(error instanceof RunError, `rejected: ${error}`);
    assert.equal(error.cause.code, 'ENOMEM');
    assert.equal(error.cause.syscall, 'poll');
    assert.match(error.message, /its output could not be written.*stdout to several places: the copying stopped: ENOMEM/);
    await until(() => teeThreads() === 0, 'the tee thread to end');
  }));

  test('the scratch pipe cannot be made: the run fails to start with its errno and call, nothing started', leakFree(async () => {
    const marker = join(dir, 'pipe2-started');
    native().test.teeFault(teeCall.pipe2, osConstants.errno.EMFILE, 1);
    const error = await run('touch', [marker], { stdout: ['pipe', { file: join(dir, 'pipe2.log') }] }).catch((e) => e);
    assert.ok(error instanceof RunError, `rejected: ${error}`);
    assert.equal(error.cause.code, 'EMFILE');
    assert.equal(error.cause.syscall, 'pipe2');
    assert.equal(existsSync(marker), false, 'the command never started');
  }));
});

describe('limits of one tee', () => {
  test('16 places work; a 17th is refused before anything opens', leakFree(async () => {
    const files = Array.from({ length: 16 }, (_, i) => join(dir, `place-${i}.log`));
    const result = await run('echo', ['hi'], { stdout: ['pipe', ...files.slice(0, 15).map((file) => ({ file }))] });
    assert.equal(result.stdout, 'hi');
    for (const file of files.slice(0, 15)) assert.equal(readFileSync(file, 'utf8'), 'hi\n');
    assert.throws(() => run('echo', ['hi'], { stdout: ['pipe', ...files.map((file) => ({ file }))] }), { code: 'ERR_INVALID_ARG_VALUE', message: /has more than 16 places/ });
    assert.equal(existsSync(files[15]), false, 'the 17th place was not opened');
  }));

  test('the addon refuses a targets array that is empty, detached or longer than 16 (EINVAL), leaving nothing open', leakFree(async () => {
    const b = native();
    const [source, sink] = b.pipe();
    const [statusRead, statusWrite] = b.pipe();
    try {
      const detached = new Int32Array([sink]);
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      assert.equal(detached.length, 0, 'detached');
      const EINVAL = osConstants.errno.EINVAL;
      for (const targets of [new Int32Array(0), detached, new Int32Array(17).fill(sink)]) {
        const r = b.tee(source, targets, statusWrite);
        assert.ok(Array.isArray(r), `refused: ${r}`);
        assert.equal(r[0], -EINVAL);
      }
      assert.equal(teeThreads(), 0);
    } finally {
      for (const fd of [source, sink, statusRead, statusWrite]) b.close(fd);
    }
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
