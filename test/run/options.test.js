// run()'s options: each one validated before anything starts, and each one doing what it says.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { describe, test, after } from 'node:test';
import { pathToFileURL } from 'node:url';

import { run, RunError } from '../../dist/index.js';
import { childPids, thrown } from '../helpers/index.js';
import { leakFree, runFixtures } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'pidfd-run-options-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('run() options: every bad value is refused before anything starts', () => {
  const cases = [
    // [options, error class, code, what the message must name]
    [{ cwd: 42 }, TypeError, 'ERR_INVALID_ARG_TYPE', /`cwd` option.*got 42/],
    [{ cwd: '' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`cwd` option must not be empty/],
    [{ env: new Map() }, TypeError, 'ERR_INVALID_ARG_TYPE', /`env` option.*Object\.fromEntries/],
    [{ env: { A: {} } }, TypeError, 'ERR_INVALID_ARG_TYPE', /`env\.A` option/],
    [{ env: { 'A=B': 'x' } }, TypeError, 'ERR_INVALID_ARG_VALUE', /`env` option has a key/],
    [{ extendEnv: 'no' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`extendEnv` option must be a boolean/],
    [{ input: 42 }, TypeError, 'ERR_INVALID_ARG_TYPE', /`input` option must be a string, a Uint8Array/],
    [{ input: null }, TypeError, 'ERR_INVALID_ARG_TYPE', /`input` option/],
    [{ inputFile: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /`inputFile` option must be a path/],
    [{ input: 'x', inputFile: '/dev/null' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`inputFile` option cannot be combined with `input`/],
    [{ input: 'x', stdin: 'inherit' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`stdin` option cannot be combined with `input`/],
    [{ stdin: 'stream' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`stdin` option must be 'pipe', 'inherit', 'ignore'/],
    [{ stdout: 'capture' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`stdout` option must be 'pipe', 'stream', 'inherit', 'ignore'/],
    [{ stderr: -1 }, RangeError, 'ERR_OUT_OF_RANGE', /`stderr` option must be a file descriptor/],
    [{ stdout: new Readable() }, TypeError, 'ERR_INVALID_ARG_VALUE', /no file descriptor \(use `stdout: 'stream'`/],
    [{ stdout: { file: 'x', mode: 1 } }, TypeError, 'ERR_INVALID_ARG_VALUE', /`stdout\.mode` option is not a key/],
    [{ stdin: { file: 'x', append: true } }, TypeError, 'ERR_INVALID_ARG_VALUE', /`stdin\.append` option/],
    [{ encoding: 'utf9' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`encoding` option must be 'buffer' or the name of an encoding that Buffer\.isEncoding\(\) knows.*got "utf9"/],
    [{ encoding: null }, TypeError, 'ERR_INVALID_ARG_TYPE', /`encoding` option must be 'buffer' or the name of an encoding.*null is not: for Buffers, give 'buffer'/],
    [{ encoding: 'base64', lines: true }, TypeError, 'ERR_INVALID_ARG_VALUE', /`lines` option cannot be combined with `encoding: 'base64'`: lines are text/],
    [{ maxBuffer: -1 }, RangeError, 'ERR_OUT_OF_RANGE', /`maxBuffer` option must be a number of bytes/],
    [{ maxBuffer: '1mb' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`maxBuffer` option/],
    [{ stripFinalNewline: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /`stripFinalNewline` option must be a boolean/],
    [{ lines: true, encoding: 'buffer' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`lines` option cannot be combined with `encoding: 'buffer'`/],
    [{ all: true, stdout: 'inherit', stderr: 'ignore' }, TypeError, 'ERR_INVALID_ARG_VALUE', /`all` option needs `stdout` or `stderr` to be captured/],
    [{ timeout: -5 }, RangeError, 'ERR_OUT_OF_RANGE', /`timeout` option must be a number of milliseconds.*got -5/],
    [{ timeout: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE', /`timeout` option/],
    [{ timeout: 2 ** 31 }, RangeError, 'ERR_OUT_OF_RANGE', /`timeout` option/],
    [{ killSignal: 'SIGNOPE' }, TypeError, 'ERR_UNKNOWN_SIGNAL', /`killSignal` option/],
    [{ killSignal: 0 }, RangeError, 'ERR_OUT_OF_RANGE', /`killSignal` option/],
    [{ forceKillAfterDelay: -1 }, RangeError, 'ERR_OUT_OF_RANGE', /`forceKillAfterDelay` option must be false or a number/],
    [{ forceKillAfterDelay: '5s' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`forceKillAfterDelay` option/],
    [{ signal: { aborted: false } }, TypeError, 'ERR_INVALID_ARG_TYPE', /`signal` option must be an AbortSignal/],
    [{ reject: 'yes' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`reject` option must be a boolean/],
    [{ preferLocal: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /`preferLocal` option/],
    [{ node: 'yes' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`node` option/],
    [{ shell: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /`shell` option must be true, false or the path of a shell/],
    [{ shell: true, node: true }, TypeError, 'ERR_INVALID_ARG_VALUE', /`shell` option cannot be combined with `node`/],
    [{ cleanup: 'no' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`cleanup` option must be a boolean/],
    [{ tree: 'cgroup' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`tree` option must be true, false, or the settings of its cgroup/],
    [{ tree: { memoryMax: -1 } }, RangeError, 'ERR_OUT_OF_RANGE', /`tree\.memoryMax` option must be a number of bytes, a size such as '512M'/],
    [{ tree: { memoryMax: '12 parsecs' } }, TypeError, 'ERR_INVALID_ARG_VALUE', /`tree\.memoryMax` option/],
    [{ tree: { cpuMax: -1 } }, RangeError, 'ERR_OUT_OF_RANGE', /`tree\.cpuMax` option/],
    [{ tree: { pidsMax: 0 } }, RangeError, 'ERR_OUT_OF_RANGE', /`tree\.pidsMax` option/],
    [{ tree: { cpuWeight: 20000 } }, RangeError, 'ERR_OUT_OF_RANGE', /`tree\.cpuWeight` option/],
    [{ tree: { parent: 5 } }, TypeError, 'ERR_INVALID_ARG_TYPE', /`tree\.parent` option must be a string/],
    [{ tree: { memory: 1 } }, TypeError, 'ERR_INVALID_ARG_VALUE', /`memory` option is not an option of the tree settings; the options are parent, memoryMax/],
    [{ buffer: false }, TypeError, 'ERR_INVALID_ARG_VALUE', /`buffer` option is not supported by run\(\): use `stdout: 'stream'`/],
    [{ cancelSignal: new AbortController().signal }, TypeError, 'ERR_INVALID_ARG_VALUE', /use `signal`/],
    [{ stdio: 'inherit' }, TypeError, 'ERR_INVALID_ARG_TYPE', /`stdio` option must be an array of the fds above 2.*`stdin`, `stdout` and `stderr`/],
    [{ stdio: ['pipe'] }, TypeError, 'ERR_INVALID_ARG_VALUE', /`stdio\[0\]` option must be undefined: fd 0 is given by `stdin`/],
    [{ stdio: [undefined, undefined, undefined, 'pipe'] }, TypeError, 'ERR_INVALID_ARG_VALUE', /`stdio\[3\]` option cannot be 'pipe'/],
    [{ stdio: [undefined, undefined, undefined, -1] }, RangeError, 'ERR_OUT_OF_RANGE', /`stdio\[3\]` option/],
    [{ argv0: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', /`argv0` option must be a string/],
    [{ uid: -2 }, RangeError, 'ERR_OUT_OF_RANGE', /`uid` option/],
    [{ gid: 2 ** 32 - 1 }, RangeError, 'ERR_OUT_OF_RANGE', /`gid` option/],
    [{ groups: [1] }, TypeError, 'ERR_INVALID_ARG_VALUE', /`groups` option is not supported by run\(\): use spawn\(\)/],
    [{ verbos: true }, TypeError, 'ERR_INVALID_ARG_VALUE', /`verbos` option is not an option of run\(\); the options are cwd, env/],
  ];
  for (const [options, type, code, message] of cases) {
    test(`${JSON.stringify(options, (k, v) => (v instanceof Map ? 'Map' : v instanceof AbortSignal ? 'AbortSignal' : v instanceof Readable ? 'Readable' : v))}: ${code}`, () => {
      const before = childPids();
      const error = thrown(() => run('true', [], options));
      assert.ok(error instanceof type, `${error.constructor.name}: ${error.message}`);
      assert.equal(error.code, code, error.message);
      assert.match(error.message, message);
      assert.deepEqual(childPids(), before, 'nothing was started');
    });
  }
});

describe('run() options, each in use', () => {
  test('argv0: what the program sees as its name; the command and the error name the program run', leakFree(async () => {
    const result = await run('sh', ['-c', 'echo "$0"; tr "\\0" " " < /proc/$$/cmdline'], { argv0: 'renamed' });
    const [name, cmdline] = result.stdout.split('\n');
    assert.equal(name, 'renamed'); // $0
    assert.equal(cmdline.split(' ')[0], 'renamed'); // /proc/PID/cmdline's first string
    assert.match(result.command, /^sh -c/);
    const error = await run(join(scratch, 'no-such-program'), { argv0: 'renamed' }).catch((e) => e);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.cause.path, join(scratch, 'no-such-program'));
  }));

  const isRoot = process.getuid?.() === 0;

  test('uid and gid: the identity the program runs with (supplementary groups dropped)', { skip: !isRoot && 'needs root to change uid/gid' }, leakFree(async () => {
    const result = await run('sh', ['-c', 'id -u; id -g; id -G'], { uid: 65534, gid: 65534 });
    assert.deepEqual(result.stdout.split('\n'), ['65534', '65534', '65534']);
  }));

  test('uid and gid above 2^31 reach the kernel whole (up to 4294967294)', { skip: !isRoot && 'needs root to change uid/gid' }, leakFree(async () => {
    const id = 2 ** 32 - 2;
    const result = await run('sh', ['-c', 'id -u; id -g'], { uid: id, gid: 2 ** 31 });
    assert.deepEqual(result.stdout.split('\n'), [String(id), String(2 ** 31)]);
  }));

  test('stdio[3+]: fds above 2 that the child reads and writes', leakFree(async () => {
    const source = join(scratch, 'fd3-source');
    const sink = join(scratch, 'fd4-sink');
    writeFileSync(source, 'from fd 3');
    const input = openSync(source, 'r');
    const output = openSync(sink, 'w');
    try {
      const result = await run('sh', ['-c', 'cat <&3; echo to fd 4 >&4; test -e /proc/self/fd/5 || echo no fd 5'], {
        stdio: [undefined, undefined, undefined, input, output, 'ignore'],
      });
      assert.equal(result.stdout, 'from fd 3no fd 5');
    } finally {
      closeSync(input);
      closeSync(output);
    }
    assert.equal(readFileSync(sink, 'utf8'), 'to fd 4\n');
  }));

  test('cwd: a path or a file: URL; result.cwd is absolute', leakFree(async () => {
    assert.equal((await run('pwd', { cwd: '/usr' })).stdout, '/usr');
    const url = await run('pwd', { cwd: pathToFileURL('/usr/bin') });
    assert.equal(url.stdout, '/usr/bin');
    assert.equal(url.cwd, '/usr/bin');
    const error = await run('pwd', { cwd: join(scratch, 'missing') }).catch((e) => e);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.cause.syscall, 'chdir');
  }));

  test('env adds to this process\'s environment; extendEnv: false makes it the whole environment', leakFree(async () => {
    const extended = await run('sh', ['-c', 'echo "$PIDFD_X:$HOME"'], { env: { PIDFD_X: 'x' } });
    assert.equal(extended.stdout, `x:${process.env.HOME}`);
    const only = await run('/usr/bin/env', { env: { PIDFD_X: 'x', N: 1 }, extendEnv: false });
    assert.equal(only.stdout, 'PIDFD_X=x\nN=1');
    const empty = await run('/usr/bin/env', { extendEnv: false });
    assert.equal(empty.stdout, '');
  }));

  test('input: a string, a Uint8Array, a Readable, an async iterable or an iterable', leakFree(async () => {
    assert.equal((await run('cat', { input: 'text\n' })).stdout, 'text');
    assert.equal((await run('cat', { input: new Uint8Array([104, 105]) })).stdout, 'hi');
    assert.equal((await run('cat', { input: Readable.from(['a', 'b']) })).stdout, 'ab');
    async function* chunks() {
      yield 'x';
      yield Buffer.from('y');
    }
    assert.equal((await run('cat', { input: chunks() })).stdout, 'xy');
    assert.equal((await run('cat', { input: ['1', '2'] })).stdout, '12');
  }));

  test('input larger than a pipe holds arrives whole; a child that reads none of it is not an error', leakFree(async () => {
    const big = 'z'.repeat(3 * 1024 * 1024);
    assert.equal((await run('wc', ['-c'], { input: big })).stdout.trim(), String(big.length));
    const ignored = await run('true', { input: big });
    assert.equal(ignored.failed, false);
  }));

  test('an input that fails fails the run, with its error as the cause', leakFree(async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    const error = await run('cat', { input: broken }).catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.match(error.shortMessage, /its input failed \(disk on fire\)/);
    assert.equal(error.cause.message, 'disk on fire');
  }));

  test('inputFile: the child reads the file', leakFree(async () => {
    const file = join(scratch, 'in.txt');
    writeFileSync(file, 'from a file\n');
    assert.equal((await run('cat', { inputFile: file })).stdout, 'from a file');
    assert.equal((await run('cat', { inputFile: pathToFileURL(file) })).stdout, 'from a file');
    const error = await run('cat', { inputFile: join(scratch, 'nope') }).catch((e) => e);
    assert.equal(error.code, 'ENOENT');
    assert.match(error.shortMessage, /could not start/);
  }));

  test('a FIFO as inputFile or { file } output: opening it never blocks this thread', async () => {
    // In a process of its own: before, the open waited for the FIFO's other end inside run(),
    // and nothing (the timeout included) could end that wait.
    const fifo = join(scratch, 'fifo');
    const lonely = join(scratch, 'fifo-without-reader');
    execFileSync('mkfifo', [fifo, lonely]);
    const script = `
      import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
      import { run } from ${JSON.stringify(join(runFixtures, '..', '..', '..', 'dist', 'index.js'))};
      const fifo = ${JSON.stringify(fifo)};
      const lonely = ${JSON.stringify(lonely)};
      const out = [];
      // No writer: the run waits for one as \`cat < fifo\` does, and its timeout still fires;
      // the wait (on the thread pool) is let go, or this process could not exit.
      const waited = await run('cat', { inputFile: fifo, timeout: 300 }).catch((e) => e);
      out.push(waited.timedOut);
      // A writer that comes late: its data reaches the command.
      const late = run('cat', { inputFile: fifo, timeout: 60_000 });
      setTimeout(() => { const w = openSync(fifo, constants.O_WRONLY); writeSync(w, 'late\\n'); closeSync(w); }, 200);
      out.push((await late).stdout);
      // No reader: the run fails at once, saying why. A FIFO of its own: the reads above close
      // their ends of the first one asynchronously, so it may still have a reader for a moment.
      const error = await run('echo', ['x'], { stdout: { file: lonely }, timeout: 60_000 }).catch((e) => e);
      out.push(error.code, error.cause?.syscall, error.cause?.path === lonely, /no process has open for reading/.test(error.shortMessage));
      // stdin: { file } is the same source: a writer that comes, and its data arrives.
      const writing = run('cat', { stdin: { file: fifo } });
      setTimeout(() => { const w = openSync(fifo, constants.O_WRONLY); writeSync(w, 'through the fifo\\n'); closeSync(w); }, 100);
      out.push((await writing).stdout);
      // Written, with the other end open (ours: O_RDWR never waits on Linux), as a file would be.
      const reader = openSync(fifo, constants.O_RDWR);
      await run('echo', ['back'], { stdout: { file: fifo } });
      const buffer = Buffer.alloc(16);
      out.push(buffer.toString('utf8', 0, readSync(reader, buffer)));
      closeSync(reader);
      console.log(JSON.stringify(out));
    `;
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout), [true, 'late', 'ENXIO', 'open', true, true, 'through the fifo', 'back\n']);
  });

  test("stdin: 'ignore' (the default) is /dev/null; an fd, a stream with an fd and { file } are read", leakFree(async () => {
    assert.equal((await run('cat')).stdout, '', 'the default: EOF at once, never a hang');
    const file = join(scratch, 'stdin.txt');
    writeFileSync(file, 'abc');
    const fd = openSync(file, 'r');
    try {
      assert.equal((await run('cat', { stdin: fd })).stdout, 'abc');
    } finally {
      closeSync(fd);
    }
    assert.equal((await run('cat', { stdin: { file } })).stdout, 'abc');
  }));

  test("stdout and stderr: 'inherit', 'ignore', an fd, { file, append } are not captured", leakFree(async () => {
    const file = join(scratch, 'out.txt');
    const ignored = await run('echo', ['x'], { stdout: 'ignore' });
    assert.equal(ignored.stdout, undefined);
    await run('echo', ['one'], { stdout: { file } });
    await run('echo', ['two'], { stdout: { file, append: true } });
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
    await run('sh', ['-c', 'echo three >&2'], { stderr: { file } });
    assert.equal(readFileSync(file, 'utf8'), 'three\n', 'without append the file is truncated');
    const fd = openSync(file, 'w');
    try {
      const result = await run('echo', ['four'], { stdout: fd });
      assert.equal(result.stdout, undefined);
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(file, 'utf8'), 'four\n');
  }));

  test("stdout: 'stream' gives the output as runProcess.stdout, uncaptured", leakFree(async () => {
    const running = run('echo', ['streamed'], { stdout: 'stream' });
    let text = '';
    running.stdout.setEncoding('utf8');
    for await (const chunk of running.stdout) text += chunk;
    const result = await running;
    assert.equal(text, 'streamed\n');
    assert.equal(result.stdout, undefined);
  }));

  test("encoding: 'buffer' gives Buffers, bytes untouched (a final newline too, unless stripFinalNewline says)", leakFree(async () => {
    const result = await run('sh', ['-c', 'printf "\\377\\376x\\n"; printf "\\n" >&2'], { encoding: 'buffer', all: true });
    assert.ok(Buffer.isBuffer(result.stdout));
    assert.deepEqual([...result.stdout], [0xff, 0xfe, 0x78, 0x0a]);
    assert.deepEqual([...result.stderr], [0x0a]);
    assert.equal(result.all.length, 5);
    const stripped = await run('printf', ['\\377\\376x\\r\\n'], { encoding: 'buffer', stripFinalNewline: true });
    assert.deepEqual([...stripped.stdout], [0xff, 0xfe, 0x78]);
  }));

  test('stripFinalNewline: false keeps the output as written; only one final newline is ever stripped', leakFree(async () => {
    assert.equal((await run('printf', ['a\\n\\n'])).stdout, 'a\n');
    assert.equal((await run('printf', ['a\\r\\n'])).stdout, 'a');
    assert.equal((await run('printf', ['a\\n'], { stripFinalNewline: false })).stdout, 'a\n');
  }));

  test('lines: output as arrays of lines, \\r\\n and a missing final newline handled', leakFree(async () => {
    const result = await run('sh', ['-c', 'printf "a\\r\\nb\\n\\nc"; printf "e\\n" >&2'], { lines: true, all: true });
    assert.deepEqual(result.stdout, ['a', 'b', '', 'c']);
    assert.deepEqual(result.stderr, ['e']);
    assert.deepEqual((await run('true', { lines: true })).stdout, []);
  }));

  test('killSignal is the signal of a timeout', leakFree(async () => {
    const error = await run('sleep', ['30'], { timeout: 1, killSignal: 'SIGINT' }).catch((e) => e);
    assert.equal(error.signal, 'SIGINT');
    assert.equal(error.timedOut, true);
  }));

  test('forceKillAfterDelay: SIGKILL follows for a command that ignores killSignal; false: never', leakFree(async () => {
    const trapped = ['-c', 'trap "" TERM; echo ready; read line; exit 7'];
    const controller = new AbortController();
    const forced = run('sh', trapped, { stdin: 'pipe', stdout: 'stream', signal: controller.signal, forceKillAfterDelay: 0 });
    await waitForLine(forced.stdout);
    controller.abort();
    const error = await forced.catch((e) => e);
    assert.equal(error.signal, 'SIGKILL');
    assert.equal(error.isCanceled, true);

    const patient = new AbortController();
    const spared = run('sh', trapped, { stdin: 'pipe', stdout: 'stream', signal: patient.signal, forceKillAfterDelay: false });
    await waitForLine(spared.stdout);
    patient.abort();
    spared.stdin.end('go on\n');
    const ended = await spared.catch((e) => e);
    assert.equal(ended.exitCode, 7, 'it ended on its own terms');
    assert.equal(ended.isCanceled, true);
    assert.match(ended.shortMessage, /was canceled \(This operation was aborted\) \(it then exited with code 7\)/);
  }));

  test('signal: an AbortSignal that aborts kills the tree; one already aborted starts nothing', leakFree(async () => {
    const controller = new AbortController();
    const running = run('sleep', ['30'], { signal: controller.signal });
    controller.abort(new Error('no longer needed'));
    const error = await running.catch((e) => e);
    assert.equal(error.isCanceled, true);
    assert.equal(error.signal, 'SIGTERM');
    assert.equal(error.cause.name, 'AbortError');
    assert.equal(error.cause.cause.message, 'no longer needed');
    assert.match(error.shortMessage, /^Command was canceled \(no longer needed\) and was killed with SIGTERM: sleep 30$/);

    const before = childPids();
    const late = run('sleep', ['30'], { signal: AbortSignal.abort() });
    assert.equal(late.pid, undefined);
    assert.deepEqual(childPids(), before);
    const refused = await late.catch((e) => e);
    assert.equal(refused.isCanceled, true);
    assert.match(refused.shortMessage, /was canceled before it started/);
  }));

  test('preferLocal: node_modules/.bin of cwd and of its parents come first in PATH', leakFree(async () => {
    const project = join(scratch, 'project');
    const bin = join(project, 'node_modules', '.bin');
    mkdirSync(join(project, 'sub'), { recursive: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'pidfd-local-tool'), '#!/bin/sh\necho local tool\n');
    chmodSync(join(bin, 'pidfd-local-tool'), 0o755);
    const found = await run('pidfd-local-tool', { cwd: join(project, 'sub'), preferLocal: true });
    assert.equal(found.stdout, 'local tool');
    const missing = await run('pidfd-local-tool', { cwd: join(project, 'sub') }).catch((e) => e);
    assert.equal(missing.code, 'ENOENT');
  }));

  test('node: runs the file as a script with this Node', leakFree(async () => {
    const result = await run(join(runFixtures, 'argv.mjs'), ['a b', 'c'], { node: true });
    assert.deepEqual(JSON.parse(result.stdout), { args: ['a b', 'c'], execPath: process.execPath });
    assert.equal(result.command.split(' ')[0], process.execPath);
  }));

  test('shell: the file is a command line; args are appended, each quoted as one word', leakFree(async () => {
    const result = await run('printf "%s\\n"', ["it's", 'a b', '$HOME'], { shell: true });
    assert.equal(result.stdout, "it's\na b\n$HOME");
    assert.equal((await run('echo $0', { shell: '/bin/bash' })).stdout, '/bin/bash');
    assert.equal((await run('echo a | tr a b', { shell: true })).stdout, 'b');
  }));
});

/** Waits for the first line of a stream. */
async function waitForLine(stream) {
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    text += chunk;
    if (text.includes('\n')) {
      stream.resume(); // let the rest flow, so the command never blocks on a full pipe
      return text;
    }
  }
  return text;
}
