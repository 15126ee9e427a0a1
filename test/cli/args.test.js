// Command-line parsing (src/cli/args.ts): durations, signals, pids, and where a command starts.

import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, test } from 'node:test';

import { parseDuration, parsePid, parseSignal, parseWithCommand, UsageError } from '../../dist/cli/args.js';
import { thrown } from '../helpers/index.js';

describe('parseDuration()', () => {
  const valid = [
    ['10', 10000],
    ['2.5s', 2500],
    ['.5', 500],
    ['250ms', 250],
    ['1.5m', 90000],
    ['2h', 7200000],
    ['1d', 86400000],
    ['0', 0],
  ];
  for (const [text, ms] of valid) {
    test(`"${text}" is ${ms} ms (a bare number is seconds)`, () => {
      assert.equal(parseDuration(text, '--timeout'), ms);
    });
  }

  test('"25d", longer than a Node timer holds, is accepted (setLongTimeout chains timers)', () => {
    assert.equal(parseDuration('25d', '--timeout'), 25 * 86_400_000);
  });

  for (const text of ['soon', '', '-1', '1x', '1 s', '1e3']) {
    test(`"${text}" is a usage error naming the option and the text`, () => {
      const error = thrown(() => parseDuration(text, '--timeout'));
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /^--timeout: invalid duration/);
      assert.ok(error.message.includes(JSON.stringify(text)), error.message);
    });
  }
});

describe('parseSignal()', () => {
  const valid = [
    ['TERM', constants.signals.SIGTERM],
    ['SIGTERM', constants.signals.SIGTERM],
    ['hup', constants.signals.SIGHUP],
    ['sigusr1', constants.signals.SIGUSR1],
    ['RTMIN+3', 37],
    ['RTMAX', 64],
    ['9', 9],
    ['64', 64],
  ];
  for (const [text, signal] of valid) {
    test(`"${text}" is signal ${signal}`, () => {
      assert.equal(parseSignal(text, '--signal'), signal);
    });
  }

  test('"0" is a signal only where it means "check" (pidfd kill), and a usage error elsewhere', () => {
    assert.equal(parseSignal('0', '--signal', { allowZero: true }), 0);
    assert.match(thrown(() => parseSignal('0', '--signal')).message, /^--signal: signal 0 sends nothing/);
  });

  for (const text of ['NOPE', 'SIG', '-9', 'TERM ', 'RTMIN+40']) {
    test(`"${text}" is a usage error naming the option and the text`, () => {
      const error = thrown(() => parseSignal(text, '--signal'));
      assert.ok(error instanceof UsageError);
      assert.ok(error.message.startsWith(`--signal: unknown signal ${JSON.stringify(text)}`), error.message);
    });
  }

  for (const text of ['65', '99']) {
    test(`"${text}" is a usage error: it is not a signal`, () => {
      assert.match(thrown(() => parseSignal(text, '--signal')).message, new RegExp(`^--signal: ${text} is not a signal`));
    });
  }
});

describe('parsePid()', () => {
  test('a positive integer up to 2**31 - 1 is a pid', () => {
    assert.equal(parsePid('1'), 1);
    assert.equal(parsePid(String(2 ** 31 - 1)), 2 ** 31 - 1);
  });

  for (const text of ['0', '-1', 'abc', '1.5', '', String(2 ** 31), '4194304000']) {
    test(`"${text}" is a usage error: not a pid`, () => {
      const error = thrown(() => parsePid(text));
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /a pid is a positive integer/);
    });
  }
});

describe('parseWithCommand()', () => {
  const options = { timeout: { type: 'string' }, verbose: { type: 'boolean', short: 'v' } };
  const cases = [
    { argv: ['--timeout', '5', '--', 'ls', '-l'], values: { timeout: '5' }, command: ['ls', '-l'] },
    { argv: ['--timeout', '5', 'ls', '-l'], values: { timeout: '5' }, command: ['ls', '-l'] },
    { argv: ['-v', 'ls', '--timeout', '1'], values: { verbose: true }, command: ['ls', '--timeout', '1'] },
    { argv: ['--timeout=5', 'ls'], values: { timeout: '5' }, command: ['ls'] },
    { argv: ['--', '--timeout'], values: {}, command: ['--timeout'] },
    { argv: ['-v'], values: { verbose: true }, command: [] },
  ];
  for (const { argv, values, command } of cases) {
    test(`${JSON.stringify(argv)}: our options end at the first non-option or at --`, () => {
      const r = parseWithCommand(argv, options);
      assert.deepEqual({ ...r.values }, values);
      assert.deepEqual(r.command, command);
    });
  }

  test('an unknown option before the command is a one-line usage error', () => {
    const error = thrown(() => parseWithCommand(['--bogus', 'ls'], options));
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /--bogus/);
    assert.doesNotMatch(error.message, /\n/);
  });
});
