// `pidfd run` (src/cli/run.ts, args.ts, timeline.ts): what real clients hit (issue 17, items 13
// and 14). A --timeline file that cannot be written; the exit code of a timeout that took a
// SIGKILL, side by side with GNU timeout(1); option values that start with a dash; a --cgroup
// that cannot be used; the timeline of a command shorter than one sample.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { assertOneLine, pidfd } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pidfd-cli-exits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let serial = 0;
/** A command that leaves a file behind if it ran, and that file's path. */
function marked() {
  const marker = join(dir, `ran-${++serial}`);
  return { marker, command: ['/bin/sh', '-c', `: > '${marker}'; exit 3`] };
}

describe('pidfd run --timeline', () => {
  const unwritable = [
    ['in a directory that does not exist', () => join(dir, 'no-such-dir', 'run.json'), /ENOENT/],
    ['that is a directory', () => {
      const d = join(dir, `a-directory-${++serial}`);
      mkdirSync(d);
      return d;
    }, /EISDIR/],
  ];
  for (const [what, path, code] of unwritable) {
    test(`a file ${what}: exit 125 before CMD starts, one line naming the option and the file`, () => {
      const { marker, command } = marked();
      const file = path();
      const r = pidfd('run', '--timeline', file, '--', ...command);
      assert.equal(r.code, 125, r.stderr);
      assertOneLine(r.stderr);
      assert.match(r.stderr, /^pidfd run: --timeline: /);
      assert.match(r.stderr, code);
      assert.ok(r.stderr.includes(file), r.stderr);
      assert.equal(existsSync(marker), false, 'CMD was not run');
    });
  }

  test("a file that fails only when written (a full disk): CMD's exit code is kept, with a warning", () => {
    const { marker, command } = marked();
    const r = pidfd('run', '--timeline', '/dev/full', '--', ...command);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(existsSync(marker), true);
    assert.match(r.stderr, /^pidfd run: --timeline: could not write \/dev\/full: ENOSPC/);
  });

  test('a command shorter than one sample still gets a sample: valid JSON lines, a chart with a point', () => {
    const jsonl = join(dir, 'short.jsonl');
    assert.equal(pidfd('run', '--timeline', jsonl, '--', 'true').code, 0);
    const text = readFileSync(jsonl, 'utf8');
    assert.match(text, /\n$/);
    const samples = text.slice(0, -1).split('\n').map((line) => JSON.parse(line));
    assert.ok(samples.length >= 1, text);
    assert.equal(samples[0].t, 0);
    assert.equal(samples[0].cpu, 0);
    for (const s of samples) assert.deepEqual(Object.keys(s), ['t', 'cpu', 'memory', 'approximate', 'processes']);
    const svg = join(dir, 'short.svg');
    assert.equal(pidfd('run', '--timeline', svg, '--', 'true').code, 0);
    assert.match(readFileSync(svg, 'utf8'), /<polyline [^>]*points="[\d.]+,[\d.]+/);
  });
});

// GNU timeout(1) on this machine, when there is one, runs the same cases beside pidfd run.
const gnu = spawnSync('timeout', ['--version'], { encoding: 'utf8' });
const gnuTimeout = gnu.status === 0 && /GNU coreutils/.test(gnu.stdout);

describe('pidfd run --timeout: exit codes, as timeout(1)', () => {
  // Ignores SIGTERM, and says so in a file once it does: a SIGTERM that came before the trap (a
  // loaded machine) ended it instead, and the case is tried again with a longer timeout.
  const ignoresTerm = (marker) => ['/bin/sh', '-c', `trap "" TERM; : > '${marker}'; while :; do sleep 0.05; done`];
  const cases = [
    { what: 'the signal ended CMD', timeout: '0.2', command: ['sleep', '30'], code: 124 },
    { what: 'CMD caught the signal and exited 0', timeout: '0.2', command: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.05; done'], code: 124 },
    { what: '-s INT ended CMD', timeout: '0.2', signal: 'INT', command: ['sleep', '30'], code: 124 },
    { what: 'CMD ignored the signal, and --kill-after sent SIGKILL', timeout: '0.2', killAfter: '0.2', ignoresTerm, code: 137 },
    { what: 'the signal was KILL', timeout: '0.2', signal: 'KILL', command: ['sleep', '30'], code: 137 },
    // 0 disables --kill-after: CMD has all the time it needs to act on the signal.
    { what: '--kill-after 0 sends no SIGKILL', timeout: '0.2', killAfter: '0', command: ['/bin/sh', '-c', 'trap "exit 5" TERM; while :; do sleep 0.05; done'], code: 124 },
    { what: 'CMD exited before the timeout', timeout: '30', command: ['/bin/sh', '-c', 'exit 3'], code: 3 },
    { what: 'CMD was SIGKILLed before the timeout', timeout: '30', command: ['/bin/sh', '-c', 'kill -KILL $$'], code: 137 },
  ];
  /** Runs `run(timeout, command)` until the command was ready for the timeout (see ignoresTerm). */
  function settled(c, run) {
    for (let timeout = Number(c.timeout); ; timeout *= 4) {
      const marker = join(dir, `ready-${++serial}`);
      const result = run(String(timeout), c.ignoresTerm ? c.ignoresTerm(marker) : c.command);
      if (!c.ignoresTerm || existsSync(marker) || timeout > 30) return result;
    }
  }

  for (const c of cases) {
    test(`${c.what}: ${c.code}`, () => {
      const ours = [];
      const theirs = [];
      if (c.killAfter !== undefined) {
        ours.push('--kill-after', c.killAfter);
        theirs.push('-k', c.killAfter);
      }
      if (c.signal !== undefined) {
        ours.push('-s', c.signal);
        theirs.push('-s', c.signal);
      }
      const r = settled(c, (timeout, command) => pidfd('run', '--timeout', timeout, ...ours, '--', ...command));
      assert.equal(r.code, c.code, r.stderr);
      if (gnuTimeout) {
        // timeout(1) may die of the SIGKILL itself (it signals its own process group): a shell
        // reports 128 + 9 for that too.
        const g = settled(c, (timeout, command) => spawnSync('timeout', [...theirs, timeout, ...command], { stdio: 'ignore', timeout: 120_000 }));
        assert.equal(g.status ?? 128 + constants.signals[g.signal], c.code, `timeout(1) ${theirs.join(' ')}`);
      }
    });
  }
});

describe('pidfd: option values that start with a dash are values, as for getopt', () => {
  const refused = [
    [['--timeout', '-1'], /^pidfd run: --timeout: invalid duration "-1"/],
    [['--timeout', '1', '--kill-after', '-2'], /^pidfd run: --kill-after: invalid duration "-2"/],
    [['--pids-max', '-1'], /^pidfd run: --pids-max: "-1" is not a positive integer/],
    [['--timeout', '1', '-s', '-9'], /^pidfd run: --signal: unknown signal "-9"/],
    // One of our own options where a value belongs: the value was forgotten.
    [['--timeout', '--report'], /^pidfd run: --timeout needs a value/],
  ];
  for (const [args, message] of refused) {
    test(`pidfd run ${args.join(' ')}: 125, one line naming the option and the value; nothing is run`, () => {
      const { marker, command } = marked();
      const r = pidfd('run', ...args, '--', ...command);
      assert.equal(r.code, 125, r.stderr);
      assertOneLine(r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /ambiguous/);
      assert.equal(existsSync(marker), false);
    });
  }

  test('pidfd wait --timeout -1: 2, the same message', () => {
    const r = pidfd('wait', '--timeout', '-1', String(process.pid));
    assert.equal(r.code, 2, r.stderr);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /^pidfd wait: --timeout: invalid duration "-1"/);
  });
});

describe('pidfd run --cgroup', () => {
  test('a directory that is not a cgroup: 125, naming --cgroup and the path, not the command', () => {
    const notCgroup = join(dir, 'not-a-cgroup');
    mkdirSync(notCgroup);
    const { marker, command } = marked();
    const r = pidfd('run', '--cgroup', notCgroup, '--', ...command);
    assert.equal(r.code, 125, r.stderr);
    assertOneLine(r.stderr);
    assert.ok(r.stderr.startsWith(`pidfd run: --cgroup ${notCgroup}: `), r.stderr);
    assert.match(r.stderr, /not a cgroup v2 directory/);
    assert.doesNotMatch(r.stderr, /spawn \/bin\/sh/);
    assert.equal(existsSync(marker), false);
  });
});
