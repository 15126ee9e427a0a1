// `pidfd run` on a real terminal (issue 8, item 11): a pseudo-terminal made by
// test/helpers/pty-drive.py, on which pidfd is in the foreground process group, as a shell's
// job is. The command must be able to read the terminal, and Ctrl-C, Ctrl-Z and `fg` must act
// on it as they would without pidfd in between.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

import { support } from '../../dist/index.js';
import { root } from '../helpers/index.js';

const cli = join(root, 'dist', 'cli', 'main.js');
const driver = join(root, 'test', 'helpers', 'pty-drive.py');

function havePython() {
  try {
    execFileSync('python3', ['-c', 'import pty'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `pidfd run ...args` (or `program.argv`) on a pseudo-terminal through `steps`. */
function onTerminal(args, steps, program = { argv: [process.execPath, cli, 'run', ...args], env: {} }) {
  const spec = { argv: program.argv, steps, timeout: 30 };
  const out = execFileSync('python3', [driver, JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...program.env },
  });
  const result = JSON.parse(out);
  assert.equal(result.timedOut, false, `the terminal session timed out; it showed:\n${result.output}`);
  return result;
}

const CTRL_C = '\u0003';
const CTRL_Z = '\u001a';
const CTRL_D = '\u0004';

describe('pidfd run on a terminal', { skip: !havePython() && 'needs python3 with its pty module to make a terminal' }, () => {
  test('the command reads the terminal (no SIGTTIN): cat echoes a line and ends at Ctrl-D', () => {
    const r = onTerminal(['--', 'sh', '-c', 'echo ready; cat'], [{ wait: 'ready' }, { send: 'hello\n' }, { wait: 'hello\r\nhello' }, { send: CTRL_D }]);
    assert.equal(r.code, 0, r.output);
  });

  test('Ctrl-C ends the command, and pidfd exits 130 as a shell would report it', () => {
    const r = onTerminal(['--', 'sh', '-c', 'echo ready; exec sleep 30'], [{ wait: 'ready' }, { send: CTRL_C }]);
    assert.equal(r.code, 130, r.output);
  });

  test('a command that ignores Ctrl-C keeps running, and pidfd waits for it instead of dying', () => {
    const r = onTerminal(
      ['--', 'sh', '-c', 'trap "" INT; echo ready; sleep 1; echo still running'],
      [{ wait: 'ready' }, { send: CTRL_C }, { wait: 'still running' }],
    );
    assert.equal(r.code, 0, r.output);
  });

  test('with --foreground the same holds (the flag forces what a terminal implies)', () => {
    const r = onTerminal(
      ['--foreground', '--', 'sh', '-c', 'trap "" INT; echo ready; sleep 1; echo still running'],
      [{ wait: 'ready' }, { send: CTRL_C }, { wait: 'still running' }],
    );
    assert.equal(r.code, 0, r.output);
  });

  test("Ctrl-C reaches the tree's members that left the terminal's process group (setsid), through their cgroup", (t) => {
    if (!support().features.perRunCgroup.available) return t.skip(`no per-run cgroup here: ${support().features.perRunCgroup.reason}`);
    // A member in a session of its own, with SIGINT at its default (a shell's background job
    // would ignore it): only pidfd, through the cgroup, can reach it with the terminal's Ctrl-C.
    // Its pid goes to a file, written before the line the terminal waits for: the check below
    // does not depend on how the terminal's output was cut.
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-away-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pidFile = join(dir, 'pid');
    const away =
      'import os, signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); ' +
      'open(sys.argv[1], "w").write(str(os.getpid())); print("AWAY-" + "STARTED", flush=True); time.sleep(30)';
    const r = onTerminal(
      ['--', 'sh', '-c', `python3 -c '${away}' ${pidFile} & echo READY; wait`],
      [{ wait: 'READY' }, { wait: 'AWAY-STARTED' }, { send: CTRL_C }],
    );
    assert.equal(r.code, 130, r.output);
    const pid = Number(readFileSync(pidFile, 'latin1'));
    assert.ok(pid > 0, `the member wrote its pid; the terminal showed:\n${r.output}`);
    assert.equal(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z'), false, 'the setsid member ended');
  });

  test("Ctrl-Z in an interactive shell stops the job, pidfd and command together; fg lets the command finish", () => {
    const shell = { argv: ['bash', '--norc', '--noprofile', '-i'], env: {} };
    // Quotes split every marker, so that the terminal's echo of the typed line cannot match it.
    const line = `${process.execPath} ${cli} run -- sh -c 'echo RE""ADY; sleep 1; echo DO""NE'\n`;
    const r = onTerminal(
      null,
      // The prompt is set by typing: the quotes keep the echo of that line from matching it.
      [{ send: "PS1='PRO''MPT> '\n" }, { wait: 'PROMPT> ' }, { send: line }, { wait: 'READY' }, { send: CTRL_Z }, { wait: 'Stopped' },
        // Longer than the command's sleep: a command that was not stopped would finish now.
        { sleep: 1.5 }, { send: 'fg\n' }, { wait: 'DONE' },
        // fg's status is the job's: pidfd's, which is the command's.
        { send: 'echo "R""C=$?"\n' }, { wait: 'RC=' }, { send: 'exit\n' }],
      shell,
    );
    const resumed = r.output.indexOf('fg\r\n');
    assert.ok(resumed > r.output.indexOf('Stopped'), r.output);
    assert.doesNotMatch(r.output.slice(0, resumed), /DONE/, 'the command was stopped too, until fg');
    const after = r.output.slice(resumed);
    assert.match(after, /DONE\r\n/, r.output);
    assert.match(after, /RC=0\r\n/, r.output);
  });

  test('--own-group keeps the old isolation: the terminal\'s Ctrl-C reaches pidfd only, which forwards it', () => {
    const r = onTerminal(['--own-group', '--', 'sh', '-c', 'echo ready; exec sleep 30'], [{ wait: 'ready' }, { send: CTRL_C }]);
    assert.equal(r.code, 130, r.output);
  });
});
