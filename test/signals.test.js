// Signal names and numbers (src/signals.ts): the table both ways, the real-time names, and the
// errors for what is not a signal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { constants } from '../dist/binding.js';
import { spawn } from '../dist/index.js';
import { MAX_SIGNAL, signalName, signalNumber, treeSignalRule } from '../dist/signals.js';
import { GUARD_MS, thrown, withTimeout } from './helpers/index.js';

const table = [
  ['SIGHUP', 1],
  ['SIGINT', 2],
  ['SIGKILL', 9],
  ['SIGUSR1', 10],
  ['SIGTERM', 15],
  ['SIGCHLD', 17],
  ['SIGRTMIN', 34],
  ['SIGRTMIN+3', 37],
  ['SIGRTMIN+30', 64],
];

describe('signal names and numbers', () => {
  for (const [name, number] of table) {
    test(`${name} is ${number}, and ${number} is ${name}`, () => {
      assert.equal(signalNumber(name, 'signal'), number);
      assert.equal(signalName(number), name);
    });
  }

  const aliases = [
    ['SIGRTMAX', 64],
    ['SIGRTMAX-1', 63],
    ['SIGRTMIN+0', 34],
    ['SIGIOT', 6],
  ];
  for (const [name, number] of aliases) {
    test(`${name} is accepted as ${number}`, () => {
      assert.equal(signalNumber(name, 'signal'), number);
    });
  }

  test(`every number from 1 to ${MAX_SIGNAL} has a name that maps back to it`, () => {
    for (let n = 1; n <= MAX_SIGNAL; n++) {
      if (n === 32 || n === 33) continue; // glibc keeps these for itself: no name, SIG32/SIG33
      assert.equal(signalNumber(signalName(n), 'signal'), n, signalName(n));
    }
  });

  test('0 is a signal only where it is allowed (a probe that sends nothing)', () => {
    assert.equal(signalNumber(0, 'signal', true), 0);
    assert.equal(thrown(() => signalNumber(0, 'killSignal')).code, 'ERR_OUT_OF_RANGE');
  });

  const refused = [
    { value: 'SIGFOO', type: TypeError, code: 'ERR_UNKNOWN_SIGNAL', shown: '"SIGFOO"' },
    { value: 'sigterm', type: TypeError, code: 'ERR_UNKNOWN_SIGNAL', shown: '"sigterm"' },
    { value: 'SIGRTMIN+31', type: TypeError, code: 'ERR_UNKNOWN_SIGNAL', shown: '"SIGRTMIN+31"' },
    { value: 'SIGRTMAX+1', type: TypeError, code: 'ERR_UNKNOWN_SIGNAL', shown: '"SIGRTMAX+1"' },
    { value: -1, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: '-1' },
    { value: 65, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: '65' },
    { value: 1.5, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: '1.5' },
    { value: NaN, type: RangeError, code: 'ERR_OUT_OF_RANGE', shown: 'NaN' },
    { value: {}, type: TypeError, code: 'ERR_INVALID_ARG_TYPE', shown: 'object' },
  ];
  for (const { value, type, code, shown } of refused) {
    test(`${shown} is refused with a ${type.name} (${code}) naming the option and the value`, () => {
      const error = thrown(() => signalNumber(value, 'killSignal'));
      assert.equal(error.constructor, type);
      assert.equal(error.code, code);
      assert.match(error.message, /`killSignal`/);
      assert.ok(error.message.includes(shown), error.message);
    });
  }
});

describe('the tree rule: which signals SIGCONT follows', () => {
  // One rule, written twice: treeSignalRule() for the trees of TypeScript (run()'s, Cgroup.kill(),
  // PidFd.killTree()) and native/tree_signal.h for the watchdog. They must agree on every signal.
  test(`TypeScript and C agree on every signal from 1 to ${MAX_SIGNAL}`, () => {
    const c = constants().treeSignalContinues;
    assert.equal(c.length, MAX_SIGNAL + 1);
    for (let n = 1; n <= MAX_SIGNAL; n++) assert.equal(treeSignalRule(n).continueStopped, c[n], `${signalName(n)} (${n})`);
  });

  test('SIGCONT follows a signal that would end a process, SIGKILL aside; not a stop, SIGCONT or an ignored one', () => {
    for (const name of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGQUIT', 'SIGRTMIN+3']) assert.equal(treeSignalRule(signalNumber(name, 's')).continueStopped, true, name);
    for (const name of ['SIGKILL', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGCONT', 'SIGCHLD', 'SIGWINCH', 'SIGURG']) {
      assert.equal(treeSignalRule(signalNumber(name, 's')).continueStopped, false, name);
    }
  });

  test("SIGKILL follows after forceKillAfterDelay the run's killSignal alone, SIGKILL aside", () => {
    assert.equal(treeSignalRule(15, 15).forceKill, true);
    assert.equal(treeSignalRule(10, 15).forceKill, false);
    assert.equal(treeSignalRule(9, 9).forceKill, false);
  });
});

describe('a signal by name reaches the child as that signal', () => {
  // The round trip through the kernel: the name chooses the number that is sent, and the number
  // the kernel reports back is named the same. A table that mapped every name to one signal
  // could not pass.
  for (const name of ['SIGTERM', 'SIGUSR1', 'SIGHUP', 'SIGINT', 'SIGRTMIN+3', 'SIGRTMAX']) {
    test(`kill('${name}') ends a sleeper, and its status says ${name}`, async () => {
      const sub = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        assert.equal(sub.kill(name), true);
        const status = await withTimeout(sub.exited, GUARD_MS, name);
        assert.deepEqual([status.code, status.signal], [null, signalName(signalNumber(name, 'signal'))]);
        assert.equal(signalNumber(status.signal, 'signal'), signalNumber(name, 'signal'));
      } finally {
        sub.kill('SIGKILL');
      }
    });
  }
});
