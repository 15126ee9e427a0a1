// Every way a run can end, and what the result or the RunError says about it; nothing is left
// behind after any of them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';

import { run, RunError, SpawnError } from '../../dist/index.js';
import { firstExited } from '../helpers/engine.js';
import { leakFree, until } from './helpers.js';

const flags = (r) => ({
  failed: r.failed,
  timedOut: r.timedOut,
  isCanceled: r.isCanceled,
  isMaxBuffer: r.isMaxBuffer,
  isTerminated: r.isTerminated,
  isForcefullyTerminated: r.isForcefullyTerminated,
});
const none = { failed: true, timedOut: false, isCanceled: false, isMaxBuffer: false, isTerminated: false, isForcefullyTerminated: false };

/** A command that ignores SIGTERM (and so do its children), once it does (its /proc status says
 * so); in an object: a RunProcess itself would be awaited. */
async function ignoringTerm(options) {
  const p = run('sh', ['-c', 'trap "" TERM; while :; do sleep 1; done'], options);
  const ignoresTerm = () => {
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))[1];
    return (BigInt(`0x${mask}`) & (1n << 14n)) !== 0n; // SIGTERM is 15
  };
  await until(ignoresTerm, 'the shell to ignore SIGTERM');
  return { p };
}

const endings = [
  {
    name: 'a zero exit is a success',
    start: () => run('sh', ['-c', 'echo fine']),
    ok: true,
    check: (r) => assert.deepEqual([r.exitCode, r.signal, r.stdout], [0, undefined, 'fine']),
  },
  {
    name: 'a non-zero exit code',
    start: () => run('sh', ['-c', 'echo oops >&2; exit 3']),
    flags: none,
    short: /^Command failed with exit code 3: sh -c 'echo oops >&2; exit 3'$/,
    check: (e) => {
      assert.deepEqual([e.exitCode, e.signal], [3, undefined]);
      assert.equal(e.message, `${e.shortMessage}\n\noops`, 'the message ends with the tail of stderr');
    },
  },
  {
    name: 'a non-zero exit after writing why on stdout (as a failing `npm test` does)',
    start: () => run('sh', ['-c', 'echo "1 test failed"; echo warning >&2; exit 1']),
    flags: none,
    short: /^Command failed with exit code 1: /,
    check: (e) => {
      assert.equal(e.message, `${e.shortMessage}\n\nwarning\n\n1 test failed`, 'stderr, then stdout');
      assert.deepEqual(e.stdio, [undefined, '1 test failed', 'warning']);
    },
  },
  {
    name: 'kill() of a tree that ignores killSignal: SIGKILL follows after forceKillAfterDelay',
    start: async () => {
      const { p } = await ignoringTerm({ forceKillAfterDelay: 50 });
      p.kill();
      return p;
    },
    flags: { ...none, isTerminated: true, isForcefullyTerminated: true },
    short: /^Command was killed with SIGKILL \(SIGTERM had not ended its tree within forceKillAfterDelay, 50 ms: it was sent SIGKILL\): sh -c /,
    check: (e) => assert.equal(e.signal, 'SIGKILL'),
  },
  {
    name: 'a cancel that killSignal does not end',
    start: async () => {
      const controller = new AbortController();
      const { p } = await ignoringTerm({ signal: controller.signal, forceKillAfterDelay: 1 });
      controller.abort();
      return p;
    },
    flags: { ...none, isCanceled: true, isTerminated: true, isForcefullyTerminated: true },
    short: /^Command was canceled \(This operation was aborted\) and was killed with SIGKILL \(SIGTERM had not ended its tree within forceKillAfterDelay, 1 ms: it was sent SIGKILL\): /,
  },
  {
    name: 'a signal from elsewhere',
    start: () => run('sh', ['-c', 'kill -USR1 $$']),
    flags: { ...none, isTerminated: true },
    short: /^Command was killed with SIGUSR1: /,
    check: (e) => assert.deepEqual([e.exitCode, e.signal], [undefined, 'SIGUSR1']),
  },
  {
    name: 'kill() of the RunProcess',
    start: () => {
      const p = run('sleep', ['30']);
      p.kill('SIGHUP');
      return p;
    },
    flags: { ...none, isTerminated: true },
    short: /^Command was killed with SIGHUP: sleep 30$/,
  },
  {
    name: 'a timeout',
    start: () => run('sleep', ['30'], { timeout: 1 }),
    flags: { ...none, timedOut: true, isTerminated: true },
    short: /^Command timed out after 1 ms and was killed with SIGTERM: sleep 30$/,
    check: (e) => assert.equal(e.cause, undefined),
  },
  {
    name: 'a cancel',
    start: () => {
      const controller = new AbortController();
      const p = run('sleep', ['30'], { signal: controller.signal });
      controller.abort();
      return p;
    },
    flags: { ...none, isCanceled: true, isTerminated: true },
    short: /^Command was canceled \(This operation was aborted\) and was killed with SIGTERM: sleep 30$/,
    check: (e) => assert.equal(e.cause.code, 'ABORT_ERR'),
  },
  {
    name: 'a cancel after the first process exited, while what it left running held the output open',
    start: async () => {
      const controller = new AbortController();
      const p = run('sh', ['-c', 'sleep 1000 & exit 4'], { signal: controller.signal });
      await firstExited(p);
      controller.abort();
      return p;
    },
    flags: { ...none, isCanceled: true },
    short: /^Command was canceled \(This operation was aborted\) \(it had exited with code 4 before that; what it left running was killed\): sh -c /,
    check: (e) => assert.deepEqual([e.exitCode, e.signal], [4, undefined]),
  },
  {
    name: 'a timeout after the first process exited, while what it left running held the output open',
    // The first process exits long before the timeout in any sane schedule; if it did not, the
    // timeout killed it, and the message says that instead.
    start: () => run('sh', ['-c', 'sleep 1000 & exit 0'], { timeout: 2000 }),
    flags: { ...none, timedOut: true },
    short: /^Command timed out after 2000 ms (\(it had exited with code 0 before that; what it left running was killed\)|and was killed with SIGTERM): /,
    check: (e) => assert.ok(e.exitCode === 0 || e.signal === 'SIGTERM'),
  },
  {
    name: 'maxBuffer',
    start: () => run('yes', { maxBuffer: 100 }),
    flags: { ...none, isMaxBuffer: true, isTerminated: true },
    short: /^Command wrote more than maxBuffer \(100 bytes\) to stdout and was killed with SIGTERM: yes$/,
  },
  {
    name: 'a program that cannot start',
    start: () => run('/etc/passwd'),
    flags: none,
    short: /^Command could not start \(spawn \/etc\/passwd EACCES: permission denied, execve '\/etc\/passwd'\): \/etc\/passwd$/,
    check: (e) => {
      assert.ok(e.cause instanceof SpawnError);
      assert.equal(e.code, 'EACCES');
      assert.equal(e.pid, undefined);
      assert.equal(e.stdout, undefined);
    },
  },
  {
    name: 'an input that fails',
    start: () =>
      run('cat', {
        input: new Readable({
          read() {
            this.destroy(new Error('input broke'));
          },
        }),
      }),
    flags: { ...none, isTerminated: true },
    short: /^Command failed: its input failed \(input broke\) and was killed with SIGTERM: cat$/,
  },
];

describe('how a run ends', () => {
  for (const ending of endings) {
    test(ending.name, leakFree(async () => {
      const outcome = await ending.start().then(
        (result) => ({ result }),
        (error) => ({ error }),
      );
      if (ending.ok) {
        assert.equal(outcome.error, undefined, outcome.error?.message);
        assert.equal(outcome.result.failed, false);
        ending.check?.(outcome.result);
        return;
      }
      const { error } = outcome;
      assert.ok(error instanceof RunError, `expected a RunError, got ${outcome.result && JSON.stringify(outcome.result)}`);
      assert.deepEqual(flags(error), ending.flags);
      assert.match(error.shortMessage, ending.short);
      assert.ok(error.message.startsWith(error.shortMessage));
      assert.equal(typeof error.durationMs, 'number');
      ending.check?.(error);
    }));
  }
});

describe('the message of a RunError', () => {
  test('quotes the end of stderr and of stdout: 20 lines of each at most, marked where cut', leakFree(async () => {
    const error = await run('sh', ['-c', 'seq 1 100000; seq 1 30 >&2; exit 1'], { reject: false });
    const [head, stderr, stdout, ...rest] = error.message.split('\n\n');
    assert.equal(head, error.shortMessage);
    assert.deepEqual(rest, []);
    assert.deepEqual(stderr.split('\n'), ['…', ...Array.from({ length: 20 }, (_, i) => String(i + 11))]);
    assert.deepEqual(stdout.split('\n'), ['…', ...Array.from({ length: 20 }, (_, i) => String(i + 99981))]);
    assert.equal(error.stdout.length, 588894, 'the result keeps all of it');
  }));

  test('a single huge line is cut to its last 4000 characters', leakFree(async () => {
    const error = await run('sh', ['-c', 'head -c 100000 /dev/zero | tr "\\0" x; exit 1'], { reject: false });
    assert.equal(error.message, `${error.shortMessage}\n\n…${'x'.repeat(4000)}`);
  }));

  test('with `all`, quotes it once (both streams, in the order they came)', leakFree(async () => {
    const error = await run('sh', ['-c', 'echo out; echo err >&2; exit 1'], { all: true, reject: false });
    const quoted = error.message.slice(error.shortMessage.length + 2).split('\n').sort();
    assert.deepEqual(quoted, ['err', 'out']);
  }));

  test("with 'hex', 'base64' or 'buffer', quotes the output as text", leakFree(async () => {
    for (const encoding of ['hex', 'base64', 'buffer']) {
      const error = await run('sh', ['-c', 'echo "é failed" >&2; exit 1'], { encoding, reject: false });
      assert.equal(error.message, `${error.shortMessage}\n\né failed`, encoding);
      assert.deepEqual(Buffer.from(error.stderr, encoding === 'buffer' ? undefined : encoding).toString(), 'é failed\n');
    }
  }));

  test('with lines, quotes the last lines', leakFree(async () => {
    const error = await run('sh', ['-c', 'seq 1 50; exit 1'], { lines: true, reject: false });
    assert.deepEqual(error.message.split('\n\n')[1].split('\n'), ['…', ...Array.from({ length: 20 }, (_, i) => String(i + 31))]);
    assert.deepEqual(error.stdio, [undefined, error.stdout, error.stderr]);
  }));
});
