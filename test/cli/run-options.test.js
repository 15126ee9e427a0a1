// `pidfd run`: timeouts that end stopped commands, signals by number and real-time signals, a
// per-run backend for --report, and timeout(1)'s meaning of 0 (issue 8, items 10, 12, 13, 14).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { childPids, root } from '../helpers/index.js';

const cli = join(root, 'dist', 'cli', 'main.js');
const SIGRTMIN = 34;

function pidfd(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.error, undefined, `pidfd ${args.join(' ')} did not finish: ${r.error}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pidfd run --timeout', () => {
  test('a command that stopped itself is ended: SIGCONT follows the signal, as timeout(1) does (exit 124)', () => {
    const r = pidfd('run', '--timeout', '0.5', '--', 'sh', '-c', 'kill -STOP $$; echo continued');
    assert.equal(r.code, 124, r.stderr);
    assert.equal(r.stdout, '', 'SIGTERM, delivered on SIGCONT, ended it before it printed');
    assert.deepEqual(childPids(), []);
  });

  test('0 means no timeout, as for timeout(1)', () => {
    const r = pidfd('run', '--timeout', '0', '--', 'sh', '-c', 'sleep 0.3; exit 3');
    assert.equal(r.code, 3);
  });

  test('a timeout longer than setTimeout can hold (25 days) is accepted', () => {
    assert.equal(pidfd('run', '--timeout', '25d', '--', 'true').code, 0);
    const wait = pidfd('wait', '--timeout', '30d', '999999999');
    assert.equal(wait.code, 1, 'the duration is accepted; the pid is what is missing');
    assert.match(wait.stderr, /no such process/);
  });
});

describe('pidfd run --signal', () => {
  const refused = [
    ['99', /99 is not a signal/],
    ['RTMIN+40', /unknown signal "RTMIN\+40"/],
    ['0', /signal 0 sends nothing/],
    ['-3', /--signal: unknown signal "-3"/],
  ];
  for (const [signal, message] of refused) {
    test(`-s ${signal} is a usage error (125, one line), and no command is started`, () => {
      const r = pidfd('run', '--timeout', '0.3', '-s', signal, '--', 'sleep', '5');
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(childPids(), []);
    });
  }

  test('a real-time signal by name ends the command on --timeout; the report names it', () => {
    const r = pidfd('run', '--report=json', '--timeout', '0.3', '-s', 'RTMIN+1', '--', 'sleep', '5');
    assert.equal(r.code, 124);
    assert.equal(JSON.parse(r.stderr).signal, 'SIGRTMIN+1');
  });

  test('a command killed by a real-time signal exits 128 + its number', () => {
    for (const [name, n] of [['RTMIN', SIGRTMIN], ['RTMIN+3', SIGRTMIN + 3], ['RTMAX', 64]]) {
      const r = pidfd('run', '--', 'sh', '-c', `kill -s ${name} $$`);
      assert.equal(r.code, 128 + n, `${name}: ${r.stderr}`);
    }
  });

  test('signals by number work, and 64 is the highest', () => {
    assert.equal(pidfd('run', '--timeout', '0.2', '-s', '1', '--', 'sleep', '5').code, 124);
    // A command the timeout ended with SIGKILL exits 137, as under timeout(1).
    assert.equal(pidfd('run', '--timeout', '0.2', '-s', '9', '--', 'sleep', '5').code, 137);
    assert.equal(pidfd('run', '--timeout', '0.2', '-s', '65', '--', 'sleep', '5').code, 125);
  });
});

describe('pidfd kill -s', () => {
  test('a number that is not a signal is a usage error (2); 0 only checks', () => {
    const bad = pidfd('kill', '-s', '99', String(process.pid));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /99 is not a signal/);
    assert.equal(pidfd('kill', '-s', '0', String(process.pid)).code, 0);
  });
});

describe('pidfd run --report', () => {
  test("chooses the fork backend for its one spawn: the command's environment is untouched", () => {
    const r = pidfd('run', '--report', '--', 'env');
    assert.equal(r.code, 0);
    // What this pass of the suite set (or nothing), never the fork that --report asks for.
    const own = process.env.PIDFD_BACKEND;
    assert.equal(/^PIDFD_BACKEND=(.*)$/m.exec(r.stdout)?.[1], own);
    // The fork backend's maxRSS is the command's own: no flag on the figure (unless the pass
    // forced a backend with PIDFD_BACKEND, which --report respects).
    if (own === undefined || own === 'fork') assert.match(r.stderr, /Maximum resident set size \(KiB\):\s+\d+\n/);
  });
});
