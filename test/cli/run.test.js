// The `pidfd` command: the real binary, its stdout, stderr and exit codes.

import assert from 'node:assert/strict';
import { spawn as cpSpawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { support } from '../../dist/index.js';
import { procStatus, root, withTimeout } from '../helpers/index.js';

const cli = join(root, 'dist', 'cli', 'main.js');

/** Runs `pidfd ...args` to completion. */
function pidfd(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `pidfd ...args` and resolves once it has printed `marker` on stdout. `done` resolves
 * when it exits; its pipes are then closed on our side even if an orphan still holds them. */
async function start(marker, ...args) {
  const child = cpSpawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const ended = (stream) => new Promise((resolve) => stream.once('end', resolve));
  const streamsEnded = Promise.all([ended(child.stdout), ended(child.stderr)]);
  const done = new Promise((resolve) => child.once('exit', resolve)).then(async (code) => {
    await Promise.race([streamsEnded, new Promise((resolve) => setTimeout(resolve, 2000))]);
    child.stdout.destroy();
    child.stderr.destroy();
    return { code, stdout, stderr };
  });
  try {
    await withTimeout(
      new Promise((resolve) => {
        const check = () => (stdout.includes(marker) ? resolve() : setTimeout(check, 10));
        check();
      }),
      10000,
      `waiting for ${marker}`,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, done };
}

/** Resolves once process `watcher` holds a pidfd for `target` (read from its fdinfo). */
async function holdsPidfdFor(watcher, target) {
  await withTimeout(
    (async () => {
      for (;;) {
        let fds = [];
        try {
          fds = readdirSync(`/proc/${watcher}/fdinfo`);
        } catch {}
        for (const fd of fds) {
          let info = '';
          try {
            info = readFileSync(`/proc/${watcher}/fdinfo/${fd}`, 'latin1');
          } catch {}
          if (new RegExp(`^Pid:\\s+${target}$`, 'm').test(info)) return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })(),
    10000,
    `pid ${watcher} watching ${target}`,
  );
}

/** pids are below pid_max: this one never exists. */
function pidMax() {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
}

/** A one-line error, never a stack trace. */
function assertOneLine(stderr) {
  assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m);
}

/** A background sleeper that is not our child's child: started with child_process. */
function sleeper(seconds = 30) {
  const child = cpSpawn('sleep', [String(seconds)], { stdio: 'ignore' });
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { pid: child.pid, exit, kill: () => child.kill('SIGKILL') };
}

describe('pidfd (no command)', () => {
  test('--help lists the commands; --version prints the version; no arguments is a usage error', () => {
    const help = pidfd('--help');
    assert.equal(help.code, 0);
    for (const name of ['run', 'wait', 'info', 'kill']) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
    assert.match(pidfd('--version').stdout, /^pidfd \d+\.\d+\.\d+\n$/);
    assert.equal(pidfd().code, 2);
  });

  test('an unknown command exits 2 with one line', () => {
    const r = pidfd('frobnicate');
    assert.equal(r.code, 2);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  test('every command has --help with its exit codes', () => {
    for (const name of ['run', 'wait', 'info', 'kill']) {
      const r = pidfd(name, '--help');
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, new RegExp(`^Usage: pidfd ${name} `));
      assert.match(r.stdout, /^Exit codes:/m);
    }
  });
});

describe('pidfd run', () => {
  test('exits with the exit code of the command, which inherits stdio', () => {
    const r = pidfd('run', '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3');
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  });

  test('the command may follow the options without --', () => {
    const r = pidfd('run', '/bin/sh', '-c', 'exit 4');
    assert.equal(r.code, 4);
  });

  test('exits with 128 + the signal that ended the command', () => {
    assert.equal(pidfd('run', '--', '/bin/sh', '-c', 'kill -KILL $$').code, 137);
  });

  test('--report prints a table of the status and resources to stderr', () => {
    const r = pidfd('run', '--report', '--', '/bin/sh', '-c', 'exit 5');
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^\tExit status:\s+5$/m);
    assert.match(r.stderr, /^\tUser time \(s\):\s+\d+\.\d{3}$/m);
    assert.match(r.stderr, /^\tMaximum resident set size \(KiB\):\s+\d+/m);
    assert.match(r.stderr, /^\tMinor page faults:\s+\d+$/m);
  });

  test('--report=json prints one JSON line with the rusage', () => {
    const r = pidfd('run', '--report=json', '--', '/bin/sh', '-c', 'exit 6');
    assert.equal(r.code, 6);
    const report = JSON.parse(r.stderr);
    assert.deepEqual(report.command, ['/bin/sh', '-c', 'exit 6']);
    assert.equal(report.code, 6);
    assert.equal(report.signal, null);
    assert.equal(report.timedOut, false);
    assert.ok(report.elapsedMs > 0);
    assert.ok(report.rusage.maxRSS > 0);
    // Without a cgroup, the report spawns with the fork backend: the peak RSS is the child's own,
    // not the launcher's (a Node process is tens of MiB; sh is a few). Not under npm run
    // test:asan, which preloads the sanitizer runtime into sh too (tens of MiB of its own).
    const sanitized = process.env.PIDFD_TEST_ADDON !== undefined;
    if (process.env.PIDFD_BACKEND === undefined && !sanitized) assert.ok(report.rusage.maxRSS < 20000, `maxRSS ${report.rusage.maxRSS}`);
  });

  test('--timeout sends the signal and exits 124', () => {
    const r = pidfd('run', '--report=json', '--timeout', '200ms', '--', 'sleep', '30');
    assert.equal(r.code, 124);
    const report = JSON.parse(r.stderr);
    assert.deepEqual([report.signal, report.timedOut], ['SIGTERM', true]);
  });

  test('--signal chooses the timeout signal, and --kill-after escalates to SIGKILL', () => {
    const hup = JSON.parse(pidfd('run', '--report=json', '--timeout', '0.1', '-s', 'HUP', '--', 'sleep', '30').stderr);
    assert.equal(hup.signal, 'SIGHUP');
    const r = pidfd('run', '--report=json', '--timeout', '0.1', '--kill-after', '0.2', '--', '/bin/sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done');
    assert.equal(r.code, 124);
    assert.equal(JSON.parse(r.stderr).signal, 'SIGKILL');
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    test(`${signal} sent to pidfd is forwarded to the command through its pidfd`, async () => {
      const script = `trap 'echo got-${signal}; exit 7' ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done`;
      // --kill-on-parent-exit: should pidfd die instead of forwarding, its child dies with it.
      const { child, done } = await start('ready', 'run', '--kill-on-parent-exit', '--', '/bin/sh', '-c', script);
      child.kill(signal);
      const r = await withTimeout(done, 10000, 'forwarded signal');
      assert.equal(r.code, 7);
      assert.match(r.stdout, new RegExp(`got-${signal}`));
    });
  }

  test('a command that is not found exits 127; one that cannot run exits 126', () => {
    const missing = pidfd('run', '--', 'no-such-command-anywhere');
    assert.equal(missing.code, 127);
    assertOneLine(missing.stderr);
    assert.match(missing.stderr, /ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-cli-'));
    try {
      writeFileSync(join(dir, 'noexec'), 'echo hi\n');
      chmodSync(join(dir, 'noexec'), 0o644);
      const denied = pidfd('run', '--', join(dir, 'noexec'));
      assert.equal(denied.code, 126);
      assert.match(denied.stderr, /EACCES/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('bad options exit 125 with one line: duration, signal, missing command, unknown option', () => {
    for (const args of [
      ['--timeout', 'soon', '--', 'true'],
      ['--timeout', '1', '-s', 'NOPE', '--', 'true'],
      ['--kill-after', '1', '--', 'true'],
      ['--report=xml', '--', 'true'],
      ['--bogus', '--', 'true'],
      [],
    ]) {
      const r = pidfd('run', ...args);
      assert.equal(r.code, 125, args.join(' '));
      assertOneLine(r.stderr);
    }
  });

  test('--cgroup that cannot be used exits 125 and says why', () => {
    const r = pidfd('run', '--cgroup', '/sys/fs/cgroup/no-such-cgroup-for-pidfd', '--', 'true');
    assert.equal(r.code, 125);
    assertOneLine(r.stderr);
    assert.match(r.stderr, support().backend === 'clone3' ? /ENOENT/ : /ENOTSUP/);
  });
});

describe('pidfd wait', () => {
  test('waits for processes that are not its children, and prints how each ended', async () => {
    const a = cpSpawn('/bin/sh', ['-c', 'read x; exit 0'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const b = sleeper(30);
    const waiting = cpSpawn(process.execPath, [cli, 'wait', String(a.pid), String(b.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    waiting.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const code = new Promise((resolve) => waiting.on('close', resolve));
    await holdsPidfdFor(waiting.pid, b.pid);
    a.stdin.end('go\n');
    b.kill();
    assert.equal(await withTimeout(code, 10000, 'pidfd wait'), 0);
    const lines = out.trim().split('\n').sort();
    assert.equal(lines.length, 2);
    if (support().features.pidfdInfoExit.available) {
      assert.ok(lines.includes(`${a.pid}: exited with code 0`), out);
      assert.ok(lines.includes(`${b.pid}: killed by SIGKILL`), out);
    } else {
      assert.match(out, /status unknown/);
    }
  });

  test('--any returns when the first process exits', async () => {
    const a = sleeper(30);
    const b = sleeper(30);
    const w = cpSpawn(process.execPath, [cli, 'wait', '--any', String(a.pid), String(b.pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pending = new Promise((resolve) => {
      let out = '';
      w.stdout.on('data', (d) => (out += d));
      w.on('close', (code) => resolve({ code, out }));
    });
    await holdsPidfdFor(w.pid, b.pid);
    a.kill();
    const r = await withTimeout(pending, 10000, 'wait --any');
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^${a.pid}: (killed by SIGKILL|exited)`));
    assert.equal(procStatus(b.pid).State[0], 'S', 'the other process is untouched');
    b.kill();
    await b.exit;
  });

  test('--timeout exits 124 while the process runs on', async () => {
    const b = sleeper(30);
    const r = pidfd('wait', '--timeout', '100ms', String(b.pid));
    assert.equal(r.code, 124);
    assert.match(r.stderr, /timed out/);
    assert.equal(procStatus(b.pid).State[0], 'S');
    b.kill();
    await b.exit;
  });

  test('a pid that does not exist exits 1; a pid that is not a number exits 2', () => {
    const missing = pidfd('wait', '4194304000');
    assert.equal(missing.code, 2, 'above the largest pid: not a pid at all');
    const gone = pidfd('wait', String(pidMax()));
    assert.equal(gone.code, 1, 'pid_max itself is never a pid');
    assertOneLine(gone.stderr);
    assert.match(gone.stderr, /no such process/);
    const bad = pidfd('wait', 'abc');
    assert.equal(bad.code, 2);
    assertOneLine(bad.stderr);
  });
});

describe('pidfd info', () => {
  test('shows parent, ids, cgroup, stable id and command line; --json has the same', async () => {
    const s = sleeper(30);
    try {
      const text = pidfd('info', String(s.pid));
      assert.equal(text.code, 0);
      assert.match(text.stdout, new RegExp(`^pid ${s.pid}$`, 'm'));
      assert.match(text.stdout, new RegExp(`^  ppid\\s+${process.pid}$`, 'm'));
      assert.match(text.stdout, /^  command\s+sleep 30$/m);
      const [json] = JSON.parse(pidfd('info', '--json', String(s.pid)).stdout);
      assert.equal(json.pid, s.pid);
      assert.equal(json.ppid, process.pid);
      assert.deepEqual(json.cmdline, ['sleep', '30']);
      assert.equal(json.uids.real, process.getuid());
      assert.equal(json.alive, true);
      if (support().features.pidfs.available) assert.match(json.id, /^\d+$/);
    } finally {
      s.kill();
      await s.exit;
    }
  });

  test('a pid that does not exist exits 1 with one line, and the others are still shown', () => {
    const r = pidfd('info', '--json', '1', String(pidMax()));
    assert.equal(r.code, 1);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /no such process/);
    assert.equal(JSON.parse(r.stdout)[0].pid, 1);
  });
});

describe('pidfd kill', () => {
  test('sends SIGTERM by default, or the -s signal', async () => {
    const a = sleeper();
    assert.equal(pidfd('kill', String(a.pid)).code, 0);
    assert.equal((await a.exit).signal, 'SIGTERM');
    const b = sleeper();
    assert.equal(pidfd('kill', '-s', 'USR1', String(b.pid)).code, 0);
    assert.equal((await b.exit).signal, 'SIGUSR1');
  });

  test('--expect-id signals the process with that id, and refuses any other', async (t) => {
    if (!support().features.pidfs.available) return t.skip('stable ids need pidfs (Linux 6.9)');
    const s = sleeper();
    const [{ id }] = JSON.parse(pidfd('info', '--json', String(s.pid)).stdout);
    const wrong = pidfd('kill', '-s', 'KILL', '--expect-id', String(BigInt(id) + 1n), String(s.pid));
    assert.equal(wrong.code, 1);
    assertOneLine(wrong.stderr);
    assert.match(wrong.stderr, /another process/);
    assert.equal(procStatus(s.pid).State[0], 'S', 'not signalled');
    assert.equal(pidfd('kill', '-s', 'KILL', '--expect-id', id, String(s.pid)).code, 0);
    assert.equal((await s.exit).signal, 'SIGKILL');
  });

  test('bad input exits 2 with one line; a missing process exits 1', () => {
    for (const args of [['-s', 'NOPE', '1'], ['--expect-id', 'x', '1'], ['--expect-id', '5', '1', '2'], [], ['-1']]) {
      const r = pidfd('kill', ...args);
      assert.equal(r.code, 2, args.join(' '));
      assertOneLine(r.stderr);
    }
    const gone = pidfd('kill', String(pidMax()));
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no such process/);
  });

  test('permission denied is one line and exit 1', async (t) => {
    if (process.getuid() !== 0) return t.skip('needs root to run the command as another user');
    const r = spawnSync(process.execPath, [cli, 'kill', '-s', '0', '1'], { encoding: 'utf8', uid: 4242, gid: 4242 });
    if (/EACCES|Cannot find module|permission denied, open/i.test(r.stderr)) return t.skip('the build is not readable by uid 4242');
    assert.equal(r.status, 1);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /permission denied: 1/);
  });
});
