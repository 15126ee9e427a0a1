// File-descriptor hygiene: the parent never gains an fd from spawning, whether the spawn succeeds
// or fails; the child gets exactly the fds it was given, at the numbers asked for, and nothing
// else (TESTPLAN D1, D2, D4, D5, D6, D8, D9, D10).

import assert from 'node:assert/strict';
import { spawn as cpSpawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import {
  closeSync,
  createWriteStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { PidFd, spawn, SpawnError } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import { fdDiff, fdSnapshot, fixtures, hasChildren, leakFree, readAll, reaped, thrown, withTimeout, zombies } from '../helpers/index.js';

const FD_CLOEXEC = 1;
const GUARD_MS = 20000; // hang guard only

/** A shell script that lists the shell's own fds; ls runs as its child, so its fds do not show. */
const LIST_FDS = 'ls -l /proc/$$/fd; exit $?';

/** `ls -l /proc/<pid>/fd` output → Map(fd → target), in fd order. */
function parseListing(text) {
  const fds = [];
  for (const line of text.split('\n')) {
    const match = / (\d+) -> (.*)$/.exec(line);
    if (match) fds.push([Number(match[1]), match[2]]);
  }
  return new Map(fds.sort(([a], [b]) => a - b));
}

/** Resolves once a stream (or null) has closed, that is, released its fd. */
function closed(stream) {
  return stream === null || stream.closed ? undefined : once(stream, 'close');
}

/**
 * Ends stdin, reads every other stream to its end, waits for the exit and for every fd to close.
 * `outputs[fd]` is what the child wrote to that fd.
 */
async function settle(sub) {
  sub.stdin?.end();
  const work = Promise.all([sub.exited, ...sub.stdio.map((s, fd) => (fd === 0 ? '' : readAll(s)))]);
  const [status, ...outputs] = await withTimeout(work, GUARD_MS, `pid ${sub.pid} to finish`);
  await withTimeout(Promise.all(sub.stdio.map(closed)), GUARD_MS, `pid ${sub.pid}'s streams to close`);
  assert.equal(reaped(sub.pid), true, `pid ${sub.pid} is reaped`);
  return { status, outputs };
}

/** The fds of a child started with `stdio` (its stdout must be 'pipe'): fd → target. */
async function childFds(stdio) {
  const sub = spawn('/bin/sh', ['-c', LIST_FDS], { stdio });
  const { status, outputs } = await settle(sub);
  assert.equal(status.code, 0, `listing failed: ${outputs[2]}`);
  return parseListing(outputs[1]);
}

/** Runs a program (through spawn) and returns its stdout parsed as JSON. */
async function jsonOutput(file, args, options = {}) {
  const sub = spawn(file, args, options);
  const { status, outputs } = await settle(sub);
  assert.equal(status.code, 0, `${args.join(' ')} failed: ${outputs[2]}`);
  return JSON.parse(outputs[1]);
}

/** Runs `node test/fixtures/<file> ...args` and returns its stdout parsed as JSON. */
function fixtureReport(file, args, options = {}) {
  return jsonOutput(process.execPath, [join(fixtures, file), ...args], options);
}

let dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pidfd-fds-'));
  // Node, libuv and the library open some fds on first use (the exit watcher, libuv's signal
  // pipe, the inotify fd): open them all before any test takes its baseline.
  await settle(spawn('/bin/sh', ['-c', 'exit 0'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] }));
  await settle(spawn('/bin/true', [], { stdio: 'ignore' }));
  thrown(() => spawn('/noSuchExecutable'));
  const cp = cpSpawn('/bin/true');
  await once(cp, 'close');
  watch(dir).close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('D1: the parent keeps exactly its fds after successful spawns', () => {
  test(
    'D1: 50 spawns across every stdio mode leave no fd behind once their streams are done',
    leakFree(async () => {
      const input = openSync(join(dir, 'd1-in'), 'w+');
      const output = openSync(join(dir, 'd1-out'), 'a');
      const stream = createWriteStream(join(dir, 'd1-stream'));
      await once(stream, 'open');
      const modes = [
        { stdio: undefined, script: 'cat; echo err >&2' },
        { stdio: 'ignore', script: 'echo out; echo err >&2' },
        { stdio: 'inherit', script: 'exit 0' }, // nothing written: stdout is the test runner's
        { stdio: [input, output, output], script: 'cat; echo err >&2' },
        { stdio: ['ignore', stream, 'ignore'], script: 'echo out' },
        { stdio: ['ignore', 'pipe', 'ignore', 'pipe', null, 'pipe'], script: 'echo 3 >&3; echo 5 >&5' },
      ];
      const subs = [];
      for (let i = 0; i < 50; i++) {
        const { stdio, script } = modes[i % modes.length];
        subs.push(spawn('/bin/sh', ['-c', script], { stdio }));
      }
      for (const sub of subs) sub.stdin?.write('data\n');
      const results = await Promise.all(subs.map(settle));
      results.forEach(({ status }, i) => assert.equal(status.code, 0, `spawn ${i}`));
      assert.equal(results[0].outputs[1], 'data\n');
      assert.deepEqual(results[5].outputs.slice(3), ['3\n', '', '5\n']);
      closeSync(input);
      closeSync(output);
      stream.close();
      await closed(stream);
    }),
  );

  test('D1: a stdin pipe the parent never wrote to is closed once the child has exited', async () => {
    // child_process destroys `stdin` on exit; an idle pipe to a dead child is useless.
    const fdsBefore = fdSnapshot();
    const sub = spawn('/bin/true');
    try {
      await withTimeout(sub.exited, GUARD_MS, 'exit');
      await withTimeout(Promise.all([closed(sub.stdout), closed(sub.stderr)]), GUARD_MS, 'EOF');
      await new Promise(setImmediate);
      assert.equal(fdDiff(fdsBefore, fdSnapshot()), '');
    } finally {
      sub.stdin.destroy();
      await closed(sub.stdin);
    }
  });
});

describe('D2: the parent keeps exactly its fds after failed spawns', () => {
  const failures = [
    { what: 'a missing program', file: '/noSuchExecutable', options: {}, code: 'ENOENT', syscall: 'execve' },
    {
      what: 'a missing working directory',
      file: '/bin/true',
      options: { cwd: '/noSuchDirectory' },
      code: 'ENOENT',
      syscall: 'chdir',
    },
    {
      what: 'a closed fd in stdio',
      file: '/bin/true',
      options: { stdio: ['pipe', 'pipe', 'pipe', 4000] },
      code: 'EBADF',
      syscall: 'fcntl',
    },
  ];
  for (const { what, file, options, code, syscall } of failures) {
    test(
      `D2: 10 spawns failing on ${what} with pipes leave no fd and no child behind`,
      leakFree(() => {
        const stdio = options.stdio ?? ['pipe', 'pipe', 'pipe', 'pipe'];
        for (let i = 0; i < 10; i++) {
          const error = thrown(() => spawn(file, [], { ...options, stdio }));
          assert.ok(error instanceof SpawnError, String(error));
          assert.equal(error.code, code);
          assert.equal(error.syscall, syscall);
        }
        assert.equal(hasChildren(), false);
      }),
    );
  }

  test(
    'D2: 1024 spawns of a missing program with pipes at fds 0-3 leave no fd and no child behind',
    leakFree(() => {
      const probe = () => {
        const fd = openSync('/dev/null', 'r');
        closeSync(fd);
        return fd;
      };
      const nextFd = probe();
      const stdio = ['pipe', 'pipe', 'pipe', 'pipe'];
      for (let i = 0; i < 1024; i++) {
        const error = thrown(() => spawn('/noSuchExecutable', [], { stdio }));
        assert.equal(error.code, 'ENOENT');
      }
      assert.equal(probe(), nextFd, 'the lowest free fd number is unchanged');
      assert.equal(hasChildren(), false);
    }),
  );
});

/** A parent with a bit of everything open: sockets, pipes to other children, pidfds, files. */
async function openEverything() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = net.connect(server.address().port, '127.0.0.1');
  await once(client, 'connect');
  const [serverSide] = await accepted;
  const udp = dgram.createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const cpChild = cpSpawn('sleep', ['30']);
  const sleeper = spawn('sleep', ['30'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const pidfdCopy = sleeper.pidfd.dup();
  const file = openSync(join(dir, 'held'), 'w');
  const watcher = watch(dir);
  return async function closeEverything() {
    watcher.close();
    closeSync(file);
    pidfdCopy.close();
    sleeper.kill('SIGKILL');
    await settle(sleeper);
    const cpClosed = once(cpChild, 'close');
    cpChild.kill('SIGKILL');
    await cpClosed;
    await new Promise((resolve) => udp.close(resolve));
    client.destroy();
    serverSide.destroy();
    server.close();
    await Promise.all([once(server, 'close'), closed(client), closed(serverSide)]);
  };
}

describe('D4: the child sees only the fds it was given', () => {
  test(
    'D4: a child sees only fds 0-2 while the parent holds sockets, pipes, pidfds and files',
    leakFree(async () => {
      const closeEverything = await openEverything();
      try {
        const fds = await childFds(['ignore', 'pipe', 'ignore']);
        assert.deepEqual([...fds.keys()], [0, 1, 2], [...fds].join('\n'));
        assert.equal(fds.get(0), '/dev/null');
        assert.match(fds.get(1), /^pipe:/);
        assert.equal(fds.get(2), '/dev/null');
      } finally {
        await closeEverything();
      }
    }),
  );

  test(
    'D4: an fd passed at 3 is the only fd the child sees besides 0-2',
    leakFree(async () => {
      const closeEverything = await openEverything();
      const passed = openSync(join(dir, 'passed'), 'w');
      try {
        const fds = await childFds(['ignore', 'pipe', 'ignore', passed]);
        assert.deepEqual([...fds.keys()], [0, 1, 2, 3], [...fds].join('\n'));
        assert.equal(fds.get(3), join(dir, 'passed'));
      } finally {
        closeSync(passed);
        await closeEverything();
      }
    }),
  );
});

describe('D5: pidfds are close-on-exec', () => {
  test(
    "D5: a Subprocess's pidfd, its dup() and PidFd.open() all have FD_CLOEXEC",
    leakFree(async () => {
      const sub = spawn('sleep', ['30'], { stdio: 'ignore' });
      const copy = sub.pidfd.dup();
      const opened = PidFd.open(sub.pid);
      try {
        for (const [name, fd] of [['pidfd', sub.pidfd.fd], ['dup()', copy.fd], ['open()', opened.fd]]) {
          const flags = native().testFdFlags(fd);
          assert.ok(flags >= 0, `${name}: fcntl failed with ${flags}`);
          assert.equal(flags & FD_CLOEXEC, FD_CLOEXEC, `${name} (fd ${fd}) is close-on-exec`);
        }
      } finally {
        copy.close();
        opened.close();
        sub.kill('SIGKILL');
        await settle(sub);
      }
    }),
  );

  test(
    "D5: no child sees another child's pidfd, nor its own",
    leakFree(async () => {
      const sleepers = [1, 2, 3].map(() => spawn('sleep', ['30'], { stdio: 'ignore' }));
      const copies = sleepers.map((s) => s.pidfd.dup());
      try {
        const fds = await childFds(['ignore', 'pipe', 'ignore']);
        assert.deepEqual([...fds.keys()], [0, 1, 2]);
        for (const [fd, target] of fds) assert.doesNotMatch(target, /pidfd/, `fd ${fd}`);
      } finally {
        for (const copy of copies) copy.close();
        for (const s of sleepers) s.kill('SIGKILL');
        await Promise.all(sleepers.map(settle));
      }
    }),
  );
});

describe('D6: fds without close-on-exec reach the child only when passed', () => {
  // Node marks fds 0-15 it inherits close-on-exec (libuv's uv_disable_stdio_inheritance), so a
  // Node process holds an inheritable fd only at a higher number: the fixture inherits 40 and 41.
  const [first, second] = [40, 41];
  let report;
  const inheritedReport = async () => {
    if (report !== undefined) return report;
    writeFileSync(join(dir, 'first'), '');
    writeFileSync(join(dir, 'second'), '');
    const stdio = ['ignore', 'pipe', 'pipe'];
    stdio[first] = openSync(join(dir, 'first'), 'r');
    stdio[second] = openSync(join(dir, 'second'), 'r');
    try {
      report = fixtureReport('inherited-fds.mjs', [String(first), String(second)], { stdio });
    } finally {
      closeSync(stdio[first]);
      closeSync(stdio[second]);
    }
    return report;
  };

  test(
    'D6: inheritable fds the child was not given are closed in the child',
    leakFree(async () => {
      const r = await inheritedReport();
      assert.deepEqual([r.flagsBefore[first], r.flagsBefore[second]], [0, 0], 'precondition: inheritable');
      assert.deepEqual([...parseListing(r.notPassed).keys()], [0, 1, 2], r.notPassed);
    }),
  );

  test(
    'D6: passed fds arrive at the numbers asked for, inheritable or close-on-exec',
    leakFree(async () => {
      const r = await inheritedReport();
      const fds = parseListing(r.passed);
      assert.deepEqual([...fds.keys()], [0, 1, 2, 3, 5, first], r.passed);
      assert.equal(fds.get(3), join(dir, 'second'));
      assert.equal(fds.get(5), r.targets[r.cloexecFd]);
      assert.equal(fds.get(first), join(dir, 'first'));
    }),
  );

  test(
    "D6: passing fds leaves the parent's close-on-exec flags as they were",
    leakFree(async () => {
      const r = await inheritedReport();
      assert.deepEqual(r.flagsAfter, r.flagsBefore);
      assert.equal(r.flagsAfter[r.cloexecFd], FD_CLOEXEC);
    }),
  );
});

describe('D8: stdin, stdout and stderr go where they are sent', () => {
  const names = ['A', 'B', 'C'];
  const permutations = [
    ['A', 'B', 'C'],
    ['A', 'C', 'B'],
    ['B', 'A', 'C'],
    ['B', 'C', 'A'],
    ['C', 'A', 'B'],
    ['C', 'B', 'A'],
  ];
  for (const [inName, outName, errName] of permutations) {
    test(
      `D8: stdin from ${inName}, stdout to ${outName} and stderr to ${errName} land in those files`,
      leakFree(async () => {
        const fds = {};
        for (const name of names) {
          writeFileSync(join(dir, name), `${name}\n`);
          fds[name] = openSync(join(dir, name), 'a+'); // reads from the start, writes append
        }
        try {
          const sub = spawn('/bin/sh', ['-c', 'read line; echo "1:$line"; echo "2:$line" >&2'], {
            stdio: [fds[inName], fds[outName], fds[errName]],
          });
          const { status } = await settle(sub);
          assert.equal(status.code, 0);
        } finally {
          for (const name of names) closeSync(fds[name]);
        }
        const content = (name) => readFileSync(join(dir, name), 'utf8');
        assert.equal(content(inName), `${inName}\n`);
        assert.equal(content(outName), `${outName}\n1:${inName}\n`);
        assert.equal(content(errName), `${errName}\n2:${inName}\n`);
      }),
    );
  }

  test(
    'D8: stdout and stderr sent to the same fd keep their order',
    leakFree(async () => {
      const fd = openSync(join(dir, 'both'), 'w');
      try {
        const sub = spawn('/bin/sh', ['-c', 'echo 1; echo 2 >&2; echo 3; echo 4 >&2'], {
          stdio: ['ignore', fd, fd],
        });
        assert.equal((await settle(sub)).status.code, 0);
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(join(dir, 'both'), 'utf8'), '1\n2\n3\n4\n');
    }),
  );

  test(
    "D8: a parent passing its own fds 1 and 2 crosswise swaps the child's stdout and stderr",
    leakFree(async () => {
      // The sources sit on each other's targets: the fixture's fd 1 goes to the child's 2.
      const out = openSync(join(dir, 'out'), 'w');
      const err = openSync(join(dir, 'err'), 'w');
      try {
        const sub = spawn(
          process.execPath,
          [join(fixtures, 'spawn-sh.mjs'), '["ignore", 2, 1]', 'echo to-stdout; echo to-stderr >&2'],
          { stdio: ['ignore', out, err] },
        );
        assert.equal((await settle(sub)).status.code, 0);
      } finally {
        closeSync(out);
        closeSync(err);
      }
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'to-stderr\n');
      assert.equal(readFileSync(join(dir, 'err'), 'utf8'), 'to-stdout\n');
    }),
  );

  /** Runs closed-std-fds.mjs: one spawn, then it closes `fds` of its own and uses pipes. */
  async function closedStdFdsReport(fds, firstStdio) {
    const resultFile = join(dir, `closed-${fds}-${firstStdio}.json`);
    const script = join(fixtures, 'closed-std-fds.mjs');
    const { outputs } = await settle(spawn(process.execPath, [script, fds, resultFile, firstStdio]));
    const report = JSON.parse(readFileSync(resultFile, 'utf8'));
    assert.equal(report.crash, undefined, `the fixture crashed: ${report.crash}\n${outputs[2]}`);
    return report;
  }
  const roundTripped = (r) => [r.code, r.stdout, r.stderr];
  const expected = [0, 'out:hello\n', 'err:hello\n'];
  let allClosed;

  test(
    'D8: a parent that closed its fd 0 still talks to the child through pipes',
    leakFree(async () => {
      const r = await closedStdFdsReport('0', 'pipe');
      assert.deepEqual(roundTripped(r), expected);
      assert.equal(r.leftOpen, '');
      assert.deepEqual(r.zombies, []);
    }),
  );

  test(
    'D8: a parent that closed its fds 0, 1 and 2 still talks to the child through pipes',
    leakFree(async () => {
      allClosed ??= await closedStdFdsReport('0,1,2', 'pipe');
      const r = allClosed;
      // The free numbers 0-2 go to the child's ends (moved into place in the child); the
      // parent's ends are kept at 3 and up, away from Node's stdio.
      assert.ok(r.parentFds.every((fd) => fd >= 3), `the parent's pipe ends: ${r.parentFds}`);
      assert.deepEqual(roundTripped(r), expected);
      assert.deepEqual(r.zombies, []);
    }),
  );

  test(
    'D8: a parent that closed its fds 0, 1 and 2 gets no fd for good from a spawn',
    leakFree(async () => {
      // libuv never closes fds 0-2 (uv__stream_close), so a pipe end handed to a net.Socket there
      // stays open after the stream is destroyed.
      allClosed ??= await closedStdFdsReport('0,1,2', 'pipe');
      assert.equal(allClosed.leftOpen, '');
    }),
  );

  test(
    'D8: a parent that closed its fds 0, 1 and 2 before Node made process.stderr can use pipes',
    leakFree(async () => {
      // Destroying a net.Socket reads `process.stderr` (lib/net.js, _destroy), which Node then
      // creates on fd 2: if a pipe end sits there, that throws EEXIST.
      const r = await closedStdFdsReport('0,1,2', 'ignore');
      assert.deepEqual(roundTripped(r), expected);
    }),
  );
});

describe('D9: a full fd table gives EMFILE, and nothing is left behind', () => {
  const reports = new Map();
  /** The emfile.mjs report for one stdio setting, from one run under RLIMIT_NOFILE 64. */
  const emfileReport = (stdio) => {
    if (!reports.has(stdio)) {
      const script = join(fixtures, 'emfile.mjs');
      reports.set(stdio, jsonOutput('prlimit', ['--nofile=64:64', process.execPath, script, stdio]));
    }
    return reports.get(stdio);
  };

  for (const stdio of ['ignore', 'inherit', 'pipe']) {
    test(
      `D9: with the fd table full, spawn (stdio '${stdio}') fails with EMFILE and leaves no fd or child`,
      leakFree(async () => {
        const { attempts } = await emfileReport(stdio);
        assert.equal(attempts[0].free, 0);
        assert.equal(attempts[0].code, 'EMFILE', JSON.stringify(attempts[0]));
        assert.equal(attempts[0].leftOpen, '');
        assert.equal(attempts[0].children, false);
      }),
    );

    test(
      `D9: freeing fds one by one, spawn (stdio '${stdio}') fails cleanly until it succeeds`,
      leakFree(async () => {
        const { attempts } = await emfileReport(stdio);
        const last = attempts.at(-1);
        assert.equal(last.exitCode, 0, `no success in ${JSON.stringify(attempts)}`);
        for (const attempt of attempts.slice(0, -1)) {
          assert.equal(attempt.code, 'EMFILE', JSON.stringify(attempt));
        }
        for (const attempt of attempts) {
          assert.equal(attempt.leftOpen, '', `with ${attempt.free} free fds`);
          assert.equal(attempt.children, false, `with ${attempt.free} free fds`);
        }
      }),
    );
  }

  test(
    "D9: one free fd is enough for spawn (stdio 'ignore') to succeed",
    leakFree(async (t) => {
      const { backend, attempts } = await emfileReport('ignore');
      if (backend === 'fork') {
        t.skip('the fork backend needs two more fds, a socketpair for the child to report through');
        return;
      }
      assert.deepEqual(
        attempts.map((a) => [a.free, a.code ?? a.exitCode]),
        [
          [0, 'EMFILE'],
          [1, 0],
        ],
      );
    }),
  );
});

describe('D10: fds above 2', () => {
  test(
    'D10: pipes at fds 3 and 7 carry data both ways and fds 4-6 are closed',
    leakFree(async () => {
      const stdio = ['ignore', 'pipe', 'ignore', 'pipe', null, null, null, 'pipe'];
      const script = 'read a <&3; echo "3:$a" >&3; read b <&7; echo "7:$b" >&7; ';
      const sub = spawn('/bin/sh', ['-c', script + LIST_FDS], { stdio });
      assert.deepEqual(
        sub.stdio.map((s) => s !== null),
        [false, true, false, true, false, false, false, true],
      );
      sub.stdio[3].write('x\n');
      sub.stdio[7].write('y\n');
      const { status, outputs } = await settle(sub);
      assert.equal(status.code, 0);
      assert.equal(outputs[3], '3:x\n');
      assert.equal(outputs[7], '7:y\n');
      const fds = parseListing(outputs[1]);
      assert.deepEqual([...fds.keys()], [0, 1, 2, 3, 7], outputs[1]);
      assert.match(fds.get(3), /^socket:/);
      assert.match(fds.get(7), /^socket:/);
    }),
  );
});
