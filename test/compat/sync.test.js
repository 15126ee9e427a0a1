// The synchronous family on the native loop (native/sync.c): Node's result for every way a child
// ends (compared with node:child_process, pid aside), the limits enforced with killSignal even
// while a grandchild holds the output pipe open, and nothing left behind.

import assert from 'node:assert/strict';
import * as node from 'node:child_process';
import { describe, test } from 'node:test';

import * as compat from '../../dist/compat/child_process.js';
import { leakFree } from '../helpers/index.js';

/** A spawnSync result without its pid, with its keys in order and its error's fields. */
function comparable(result) {
  const { pid, error, ...rest } = result;
  return {
    keys: Object.keys(result),
    pidKind: pid === 0 ? 0 : typeof pid,
    error: error && { message: error.message, keys: Object.keys(error), ...error },
    ...rest,
  };
}

const sh = (script, options) => ['/bin/sh', ['-c', script], options];

const cases = {
  'output on stdout and stderr': sh('echo out; echo err >&2'),
  'an exit code': sh('exit 7'),
  'a signal': sh('kill -TERM $$'),
  'input written, then stdin closed': ['/bin/cat', [], { input: 'some input\n' }],
  'input as a Uint8Array': ['/bin/cat', [], { input: new Uint8Array([104, 105]) }],
  'input in an encoding': ['/bin/cat', [], { input: 'aGk=', encoding: 'base64' }],
  'no input: stdin at its end at once': ['/bin/cat', []],
  'input to a child that does not read it (EPIPE)': sh('exec 0<&-; sleep 0.1', { input: Buffer.alloc(4 << 20) }),
  'encoding utf8': sh('printf héllo', { encoding: 'utf8' }),
  'stdio inherit and ignore': sh('exit 3', { stdio: ['ignore', 'inherit', 'ignore'] }),
  'a fourth pipe': sh('echo three >&3', { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] }),
  'maxBuffer exceeded (ENOBUFS), the output kept whole': sh('printf 01234567890123456789; sleep 5', { maxBuffer: 10 }),
  'maxBuffer counts every pipe': sh('printf aaaa; printf bbbb >&2; sleep 5', { maxBuffer: 6 }),
  'maxBuffer 0 means no limit': sh('head -c 300000 /dev/zero', { maxBuffer: 0 }),
  'shell: true': ['echo $((6 * 7))', [], { shell: true }],
  'argv0': ['/bin/sh', ['-c', 'echo $0'], { argv0: 'named' }],
  'env': sh('echo $ONLY', { env: { ONLY: 'this' } }),
  'cwd': sh('pwd', { cwd: '/usr' }),
  'a missing cwd': ['/bin/true', [], { cwd: '/no/such/dir' }],
};

describe('spawnSync: the result is Node\'s', () => {
  for (const [name, args] of Object.entries(cases)) {
    test(name, leakFree(() => {
      assert.deepEqual(comparable(compat.spawnSync(...args)), comparable(node.spawnSync(...args)));
    }));
  }
});

describe('spawnSync: limits', () => {
  test('timeout: the child gets killSignal (SIGKILL here) and the call returns ETIMEDOUT with what was read', leakFree(() => {
    const r = compat.spawnSync('/bin/sh', ['-c', 'echo before; trap "" TERM; sleep 30'], { timeout: 200, killSignal: 'SIGKILL' });
    assert.equal(r.error.code, 'ETIMEDOUT');
    assert.equal(r.error.syscall, 'spawnSync /bin/sh');
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.status, null);
    assert.equal(String(r.stdout), 'before\n');
  }));

  test('timeout with a grandchild holding stdout open: the call returns once the child is killed', leakFree(() => {
    const started = Date.now();
    // The grandchild (sleep) keeps stdout open for 30 s; Node's rule: the pipes are closed when
    // the limit is hit, so that only the child's own exit is waited for.
    const r = compat.spawnSync('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], { timeout: 300 });
    const grandchild = Number(String(r.stdout).trim());
    try {
      assert.equal(r.error.code, 'ETIMEDOUT');
      assert.equal(r.signal, 'SIGTERM');
      assert.ok(Date.now() - started < 25_000, 'the call waited for the grandchild');
    } finally {
      if (grandchild > 0) process.kill(grandchild, 'SIGKILL');
    }
  }));

  test('timeout after the child exited while a grandchild holds stdout: ETIMEDOUT with the exit status, no signal', leakFree(() => {
    const r = compat.spawnSync('/bin/sh', ['-c', 'sleep 30 & echo $!; exit 5'], { timeout: 300 });
    const grandchild = Number(String(r.stdout).trim());
    try {
      assert.equal(r.error.code, 'ETIMEDOUT');
      assert.equal(r.status, 5);
      assert.equal(r.signal, null);
    } finally {
      if (grandchild > 0) process.kill(grandchild, 'SIGKILL');
    }
  }));

  test('maxBuffer with a grandchild writing: ENOBUFS, the child killed with killSignal, the output not cut', leakFree(() => {
    const r = compat.spawnSync('/bin/sh', ['-c', '(sleep 30; echo late) & echo $!; head -c 200000 /dev/zero; sleep 30'], {
      maxBuffer: 1000,
      killSignal: 'SIGINT',
    });
    const grandchild = Number(String(r.stdout.subarray(0, r.stdout.indexOf(10))));
    try {
      assert.equal(r.error.code, 'ENOBUFS');
      assert.equal(r.signal, 'SIGINT');
      assert.ok(r.stdout.length > 1000, `output kept whole past maxBuffer (${r.stdout.length} bytes)`);
    } finally {
      if (grandchild > 0) process.kill(grandchild, 'SIGKILL');
    }
  }));

  test('execFileSync past its timeout throws the ETIMEDOUT error with the result on it', leakFree(() => {
    let caught;
    try {
      compat.execFileSync('/bin/sleep', ['30'], { timeout: 100 });
    } catch (error) {
      caught = error;
    }
    assert.equal(caught.code, 'ETIMEDOUT');
    assert.equal(caught.error, caught);
    assert.equal(caught.signal, 'SIGTERM');
    assert.equal(caught.status, null);
  }));

  test('execSync returns stdout and writes the child\'s stderr to ours when stdio is not given', () => {
    const r = node.spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { execSync } from ${JSON.stringify(new URL('../../dist/compat/child_process.js', import.meta.url).href)};
process.stdout.write('[' + execSync('echo out; echo err >&2', { encoding: 'utf8' }) + ']');`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.equal(r.stdout, '[out\n]');
    assert.equal(r.stderr, 'err\n');
  });
});

describe('spawnSync: what other code did to the prototypes', () => {
  test('an Object.prototype.run does not change what spawnSync does (the addon reads only the options it was given)', () => {
    // In a process of its own: the pollution must not reach this file's other tests.
    const script = (polluted) => `
      ${polluted ? 'Object.prototype.run = { tree: 1, continueStopped: 0, forceKillMs: 0, maxLines: 1, lineUnit: 1, recordRuns: 1 };' : ''}
      const { spawnSync } = await import(${JSON.stringify(new URL('../../dist/compat/child_process.js', import.meta.url).href)});
      const r = spawnSync('sh', ['-c', 'echo a; echo b; echo c']);
      console.log(JSON.stringify([String(r.stdout), r.status, r.signal, r.error?.code]));`;
    const outcome = (polluted) => node.execFileSync(process.execPath, ['--input-type=module', '-e', script(polluted)], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(outcome(true), outcome(false));
  });
});
