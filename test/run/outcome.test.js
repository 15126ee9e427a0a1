// The outcome of a command (src/run/outcome.ts) and of a pipeline (src/run/pipe.ts) as pure
// functions: each ending is a RunState record, made here without starting anything, and checked
// for the result's fields and the error's words. endings.test.js checks the same endings on real
// commands; these pin the rules themselves, for every engine and for a run that ends
// synchronously.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { RunError } from '../../dist/index.js';
import { ByteStore } from '../../dist/run/capture.js';
import { normalizeRun } from '../../dist/run/options.js';
import { outcomeOf } from '../../dist/run/outcome.js';
import { joinPipeline } from '../../dist/run/pipe.js';

/** An ExitStatus: exited with `code`, or killed by `signal`. */
function exited(code, signal = null, more = {}) {
  return { pid: 4242, code: signal === null ? code : null, signal, coreDumped: false, rusage: null, reason: null, oomKilled: false, ...more };
}

/** Bytes captured into a store, as a capture leaves them. */
function store(text, limit = 100_000_000) {
  const s = new ByteStore(limit);
  if (text !== '') s.append(Buffer.from(text));
  return s;
}

/** A RunState for `argv` run with `options`, exited 0 with nothing written unless `over` (and its
 * `kills`) says otherwise. */
function state(argv, options, { kills, ...over } = {}) {
  const n = normalizeRun(argv[0], argv.slice(1), options);
  return {
    n,
    startError: undefined,
    pid: 4242,
    status: exited(0),
    statusError: undefined,
    kills: { timedOut: false, canceled: false, maxBuffer: false, forced: false, inputError: undefined, exitedBeforeKill: false, gracefullyCanceled: false, gracePassed: false, ...kills },
    stdout: store(''),
    stderr: store(''),
    all: undefined,
    exceeded: { stdout: false, stderr: false },
    durationMs: 12.5,
    cgroup: undefined,
    ...over,
  };
}

describe('the outcome of a command, from its record', () => {
  test('exit 0 is a result, not an error: its fields as the record says, output decoded', () => {
    const outcome = outcomeOf(state(['printf', 'hi'], {}, { stdout: store('hi\n'), stderr: store('warn\n') }));
    assert.ok(!(outcome instanceof RunError));
    assert.equal(outcome.failed, false);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.signal, undefined);
    assert.equal(outcome.stdout, 'hi');
    assert.equal(outcome.stderr, 'warn');
    assert.deepEqual(outcome.stdio, [undefined, 'hi', 'warn']);
    assert.equal(outcome.pid, 4242);
    assert.equal(outcome.durationMs, 12.5);
    assert.equal(outcome.command, 'printf hi');
    assert.deepEqual([outcome.timedOut, outcome.isCanceled, outcome.isMaxBuffer, outcome.isTerminated, outcome.isForcefullyTerminated], [false, false, false, false, false]);
  });

  test('a non-zero exit is a RunError that quotes stderr, then stdout', () => {
    const outcome = outcomeOf(state(['make'], {}, { status: exited(2), stdout: store('built a\n'), stderr: store('no rule for b\n') }));
    assert.ok(outcome instanceof RunError);
    assert.equal(outcome.shortMessage, 'Command failed with exit code 2: make');
    assert.equal(outcome.message, 'Command failed with exit code 2: make\n\nno rule for b\n\nbuilt a');
    assert.equal(outcome.exitCode, 2);
    assert.equal(outcome.failed, true);
  });

  test('timed out, killSignal ignored, SIGKILL after forceKillAfterDelay: it says both, and isForcefullyTerminated', () => {
    const outcome = outcomeOf(
      state(['sleep', '60'], { timeout: 100, forceKillAfterDelay: 50 }, { status: exited(null, 'SIGKILL'), kills: { timedOut: true, forced: true } }),
    );
    assert.ok(outcome instanceof RunError);
    assert.equal(
      outcome.shortMessage,
      'Command timed out after 100 ms and was killed with SIGKILL (SIGTERM had not ended its tree within forceKillAfterDelay, 50 ms: it was sent SIGKILL): sleep 60',
    );
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.isForcefullyTerminated, true);
    assert.equal(outcome.isTerminated, true);
    assert.equal(outcome.signal, 'SIGKILL');
    assert.equal(outcome.exitCode, undefined);
  });

  test('timed out after its first process had exited: what it left running was killed', () => {
    const outcome = outcomeOf(
      state(['sh', '-c', 'sleep 60 &'], { timeout: 100, killSignal: 'SIGINT' }, { status: exited(0), kills: { timedOut: true, exitedBeforeKill: true } }),
    );
    assert.equal(
      outcome.shortMessage,
      'Command timed out after 100 ms (it had exited with code 0 before that; what it left running was killed): sh -c \'sleep 60 &\'',
    );
    assert.equal(outcome.escapedCommand, "sh -c 'sleep 60 &'");
    assert.equal(outcome.failed, true);
    assert.equal(outcome.isForcefullyTerminated, false);
  });

  test('past maxBuffer on stdout: the limit in bytes, what was kept, and the kill', () => {
    const outcome = outcomeOf(
      state(['yes'], { maxBuffer: 10 }, {
        status: exited(null, 'SIGTERM'),
        stdout: store('y\ny\ny\ny\ny\n'),
        kills: { maxBuffer: true },
        exceeded: { stdout: 'bytes', stderr: false },
      }),
    );
    assert.ok(outcome instanceof RunError);
    assert.equal(outcome.shortMessage, 'Command wrote more than maxBuffer (10 bytes) to stdout and was killed with SIGTERM: yes');
    assert.equal(outcome.isMaxBuffer, true);
    assert.equal(outcome.stdout, 'y\ny\ny\ny\ny');
  });

  test('past maxBuffer in lines, on stderr; and past what a Buffer holds', () => {
    const lines = outcomeOf(
      state(['noisy'], { maxBuffer: 1, lines: true }, { status: exited(null, 'SIGTERM'), kills: { maxBuffer: true }, exceeded: { stdout: false, stderr: 'lines' } }),
    );
    assert.equal(lines.shortMessage, 'Command wrote more than maxBuffer (1 line) to stderr and was killed with SIGTERM: noisy');
    const both = outcomeOf(
      state(['noisy'], { maxBuffer: 3, lines: true }, { status: exited(null, 'SIGTERM'), kills: { maxBuffer: true }, exceeded: { stdout: 'lines', stderr: 'bytes' } }),
    );
    assert.equal(both.shortMessage, 'Command wrote more than maxBuffer (3 lines) to stdout and was killed with SIGTERM: noisy', 'stdout is named first');
    const huge = outcomeOf(
      state(['cat', '/dev/zero'], { maxBuffer: Infinity }, { status: exited(1), kills: { maxBuffer: true }, exceeded: { stdout: 'bytes', stderr: false } }),
    );
    assert.equal(huge.shortMessage, 'Command wrote more than 4294967296 bytes, the most a Buffer holds to stdout (it then exited with code 1): cat /dev/zero');
  });

  test('canceled before the start, and could not start: the cause and its code', () => {
    const controller = new AbortController();
    controller.abort();
    const abort = Object.assign(new Error('This operation was aborted'), { code: 'ABORT_ERR' });
    const canceled = outcomeOf(state(['true'], { signal: controller.signal }, { status: undefined, pid: undefined, startError: abort, kills: { canceled: true } }));
    assert.equal(canceled.shortMessage, 'Command was canceled before it started: true');
    assert.equal(canceled.cause, abort);
    assert.equal(canceled.isCanceled, true);
    const enoent = Object.assign(new Error('spawn nope ENOENT: no such file'), { code: 'ENOENT' });
    const notFound = outcomeOf(state(['nope'], {}, { status: undefined, pid: undefined, startError: enoent, stdout: undefined, stderr: undefined }));
    assert.equal(notFound.shortMessage, 'Command could not start (spawn nope ENOENT: no such file): nope');
    assert.equal(notFound.code, 'ENOENT');
    assert.equal(notFound.pid, undefined);
  });

  test('canceled gracefully (gracefulCancel): ended on its own, or killed once forceKillAfterDelay had passed', () => {
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    const options = { node: true, ipc: true, gracefulCancel: true, signal: controller.signal, forceKillAfterDelay: 300 };
    const clean = outcomeOf(state(['job.mjs'], options, { kills: { canceled: true, gracefullyCanceled: true } }));
    assert.ok(clean instanceof RunError);
    assert.deepEqual([clean.isCanceled, clean.isGracefullyCanceled, clean.isTerminated, clean.exitCode], [true, true, false, 0]);
    assert.match(clean.shortMessage, /^Command was canceled gracefully \(user left\): it was sent a cancel message and exited with code 0: /);
    const killed = outcomeOf(
      state(['job.mjs'], options, { status: exited(null, 'SIGTERM'), kills: { canceled: true, gracefullyCanceled: true, gracePassed: true } }),
    );
    assert.deepEqual([killed.isGracefullyCanceled, killed.isTerminated, killed.signal], [true, true, 'SIGTERM']);
    assert.match(
      killed.shortMessage,
      /^Command was canceled gracefully \(user left\): it had not ended 300 ms \(forceKillAfterDelay\) after the cancel message and was sent SIGTERM and was killed with SIGTERM: /,
    );
    const plain = outcomeOf(state(['sleep', '9'], { signal: controller.signal }, { status: exited(null, 'SIGTERM'), kills: { canceled: true } }));
    assert.equal(plain.isGracefullyCanceled, false);
  });

  test('the OOM killer: the first process, or others of its tree', () => {
    const cgroup = { oomKills: 2 };
    const first = outcomeOf(state(['hog'], {}, { status: exited(null, 'SIGKILL', { oomKilled: true }), cgroup }));
    assert.equal(first.shortMessage, 'Command was killed with SIGKILL by the OOM killer (its tree reached memory.max): hog');
    const others = outcomeOf(state(['make'], {}, { status: exited(2), cgroup }));
    assert.equal(others.shortMessage, 'Command failed with exit code 2 (the OOM killer ended 2 processes of its tree): make');
  });

  test('a failed input names its error, which is the cause', () => {
    const error = new Error('source broke');
    const outcome = outcomeOf(state(['cat'], { input: 'x' }, { status: exited(null, 'SIGTERM'), kills: { inputError: error } }));
    assert.equal(outcome.shortMessage, 'Command failed: its input failed (source broke) and was killed with SIGTERM: cat');
    assert.equal(outcome.cause, error);
  });
});

describe('the outcome of a pipeline, from its commands\' outcomes', () => {
  test('a command killed by SIGPIPE before the last did not fail: the last one\'s result, with pipedFrom', () => {
    const first = outcomeOf(state(['yes'], {}, { status: exited(null, 'SIGPIPE'), stdout: undefined }));
    assert.ok(first instanceof RunError, 'on its own it failed');
    const last = outcomeOf(state(['head', '-n1'], {}, { stdout: store('y\n') }));
    const outcome = joinPipeline([first, last]);
    assert.equal(outcome, last);
    assert.equal(outcome.failed, false);
    assert.equal(outcome.pipedFrom.length, 1);
    assert.equal(outcome.pipedFrom[0].signal, 'SIGPIPE');
    assert.equal(outcome.pipedFrom[0].failed, false);
  });

  test('otherwise the first command that failed is the pipeline\'s error', () => {
    const first = outcomeOf(state(['false'], {}, { status: exited(1), stdout: undefined }));
    const last = outcomeOf(state(['cat'], {}, { status: exited(3) }));
    const outcome = joinPipeline([first, last]);
    assert.equal(outcome, first);
    assert.equal(outcome.shortMessage, 'Command failed with exit code 1: false');
    assert.deepEqual(last.pipedFrom, [first]);
  });
});
