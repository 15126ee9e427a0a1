// Every way a run can end, and what the result or the RunError says about it; nothing is left
// behind after any of them.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';

import { run, RunError, SpawnError } from '../../dist/index.js';
import { leakFree } from './helpers.js';

const flags = (r) => ({
  failed: r.failed,
  timedOut: r.timedOut,
  isCanceled: r.isCanceled,
  isMaxBuffer: r.isMaxBuffer,
  isTerminated: r.isTerminated,
});
const none = { failed: true, timedOut: false, isCanceled: false, isMaxBuffer: false, isTerminated: false };

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
    short: /^Command failed with exit code 3: sh -c echo oops >&2; exit 3$/,
    check: (e) => {
      assert.deepEqual([e.exitCode, e.signal], [3, undefined]);
      assert.equal(e.message, `${e.shortMessage}\n\noops`, 'the message ends with the tail of stderr');
    },
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
      await p.subprocess.exited;
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
