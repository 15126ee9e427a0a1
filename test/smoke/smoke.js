// The runtime-neutral smoke suite: what a user of pidfd needs first (it loads, spawn, pipes both
// ways, exit codes, signals, PidFd, a tree killed through its cgroup), written against nothing
// but the public API and node: modules that Node, Bun and Deno all implement, with a harness of
// its own (no test runner: each runtime's node:test differs). test/smoke/run.js runs it under
// each runtime; `bun test/smoke/smoke.js`, `deno run -A test/smoke/smoke.js` or
// `node test/smoke/smoke.js` run it directly. The exit code is 1 if any case failed.
//
// Every case has a time limit, and every child a case starts is killed when the case ends,
// whether it passed, failed or gave up: a hung case cannot leave a process behind.

import { strict as assert } from 'node:assert';
import { readdirSync, readlinkSync } from 'node:fs';

import { $, PidFd, run, spawn, support } from '../../dist/index.js';

const LIMIT_MS = 30_000;
const cases = [];
const started = new Set();

/** Registers a case: `fn(track)`, where track(subprocess) marks a child to kill at the end. */
function smoke(name, fn) {
  cases.push({ name, fn });
}

function track(child) {
  started.add(child);
  return child;
}

/** Everything a readable stream gives until its end, as a string. */
function collect(stream) {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => (text += chunk));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

/** This process's fds and what each is, one a line. */
function fds() {
  const list = [];
  for (const fd of readdirSync('/proc/self/fd').sort((a, b) => a - b)) {
    try {
      list.push(`${fd} ${readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {} // the directory's own fd, closed by now
  }
  return list.join('\n');
}

const s = support();
const cgroupReason =
  s.cgroups === null
    ? 'not on Linux'
    : s.cgroups.parent === null
      ? `no cgroup v2 directory this process may create cgroups in (${s.cgroups.parentFrom})`
      : null;

smoke('the library loads and says which runtime and watcher it uses', () => {
  assert.ok(['node', 'bun', 'deno'].includes(s.runtime), `runtime ${s.runtime}`);
  assert.ok(s.watcher !== null && ['uv_poll', 'thread'].includes(s.watcher.name), JSON.stringify(s.watcher));
  assert.equal(s.watcher.name === 'uv_poll', s.runtime === 'node' && process.env.PIDFD_WATCHER !== 'thread');
});

smoke('a child exits with its code, and its rusage is read', async () => {
  const child = track(spawn('/bin/sh', ['-c', 'exit 7']));
  const status = await child.exited;
  assert.equal(status.code, 7);
  assert.equal(status.signal, null);
  assert.equal(typeof status.rusage.maxRSS, 'number');
});

smoke('a missing program fails spawn() with ENOENT', () => {
  assert.throws(() => spawn('/nonexistent/program'), (error) => error.code === 'ENOENT' && error.syscall !== undefined);
});

smoke('stdin, stdout and stderr are streams both ways', async () => {
  const child = track(spawn('/bin/sh', ['-c', 'read line; echo "out:$line"; echo "err:$line" >&2'], { stdio: 'pipe' }));
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  child.stdin.end('hello\n');
  assert.equal(await out, 'out:hello\n');
  assert.equal(await err, 'err:hello\n');
  assert.equal((await child.exited).code, 0);
});

// Twenty times: a socketpair's two fds once stayed open now and then on Bun (its Duplex.from did
// not always destroy both sides), which one round rarely showed.
smoke('a socketpair at fd 3 reads and writes, twenty times', async () => {
  for (let round = 0; round < 20; round++) await socketpairRound();
});

async function socketpairRound() {
  const child = track(spawn('/bin/sh', ['-c', 'read line <&3; echo "back:$line" >&3'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] }));
  const socket = child.stdio[3];
  const back = new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.endsWith('\n')) resolve(text);
    });
    socket.on('error', reject);
  });
  socket.write('ping\n');
  assert.equal(await back, 'back:ping\n');
  assert.equal((await child.exited).code, 0);
  socket.destroy();
}

smoke('a large output arrives whole', async () => {
  const child = track(spawn('/bin/sh', ['-c', 'head -c 1048576 /dev/zero | tr "\\0" x'], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const out = await collect(child.stdout);
  assert.equal(out.length, 1048576);
  assert.equal((await child.exited).code, 0);
});

smoke('kill() delivers the signal through the pidfd, and returns false once the child is reaped', async () => {
  const child = track(spawn('/bin/sleep', ['300']));
  assert.equal(child.kill('SIGTERM'), true);
  const status = await child.exited;
  assert.equal(status.signal, 'SIGTERM');
  assert.equal(child.kill('SIGTERM'), false);
});

smoke('many children exiting together are each delivered', async () => {
  const children = Array.from({ length: 40 }, (_, i) => track(spawn('/bin/sh', ['-c', `exit ${i % 50}`])));
  const codes = (await Promise.all(children.map((c) => c.exited))).map((status) => status.code);
  assert.deepEqual(codes, children.map((_, i) => i % 50));
});

smoke('exits keep arriving one after another', async () => {
  for (let i = 0; i < 20; i++) {
    const child = track(spawn('/bin/true'));
    assert.equal((await child.exited).code, 0);
  }
});

smoke("PidFd.open() awaits a process's exit, has a stable id, and refuses a signal after it", async () => {
  const child = track(spawn('/bin/sleep', ['300']));
  const pidfd = PidFd.open(child.pid);
  try {
    assert.equal(pidfd.pid, child.pid);
    assert.equal(pidfd.isAlive(), true);
    if (s.features.pidfs.available) assert.equal(pidfd.id, child.pidfd.id);
    const exited = pidfd.exited();
    assert.equal(pidfd.sendSignal('SIGKILL'), true);
    await exited;
    assert.equal((await child.exited).signal, 'SIGKILL');
    assert.equal(pidfd.isAlive(), false);
  } finally {
    pidfd.close();
  }
});

smoke('PidFd.self() reads this process through /proc', () => {
  const self = PidFd.self();
  try {
    assert.equal(self.pid, process.pid);
    assert.equal(self.info().pid, process.pid);
  } finally {
    self.close();
  }
});

smoke('an unref()d child is still reaped', async () => {
  const child = track(spawn('/bin/sh', ['-c', 'exit 4'])).unref();
  const timer = setInterval(() => {}, 1000); // keeps this case's loop alive while it waits
  try {
    assert.equal((await child.exited).code, 4);
  } finally {
    clearInterval(timer);
  }
});

smoke('a tree in a cgroup of its own is killed whole, setsid()d members included', async () => {
  if (cgroupReason !== null) return `skipped: ${cgroupReason}`;
  const script = 'setsid sleep 300 & sleep 300 & (sleep 300 &) ; echo ready; wait';
  const child = track(spawn('/bin/sh', ['-c', script], { cgroup: true, stdio: ['ignore', 'pipe', 'inherit'] }));
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.stdout.resume();
  const cgroup = child.cgroup;
  assert.ok(cgroup !== null);
  assert.ok(cgroup.pids().length >= 4, `members: ${cgroup.pids().join(' ')}`);
  await cgroup.kill();
  assert.equal((await child.exited).signal, 'SIGKILL');
  await cgroup.empty;
  assert.deepEqual(cgroup.pids(), []);
});

/** A run()'s first process, tracked like a spawned child (undefined if it did not start). */
function trackRun(running) {
  if (running.subprocess) track(running.subprocess);
  return running;
}

smoke('run() captures stdout and stderr; a failing command is a RunError with its code and stderr', async () => {
  const result = await trackRun(run('/bin/sh', ['-c', 'echo out; echo err >&2']));
  assert.equal(result.stdout, 'out');
  assert.equal(result.stderr, 'err');
  assert.equal(result.exitCode, 0);
  const error = await trackRun(run('/bin/sh', ['-c', 'echo why >&2; exit 3'])).then(
    () => null,
    (e) => e,
  );
  assert.ok(error !== null, 'a non-zero exit rejects');
  assert.equal(error.exitCode, 3);
  assert.equal(error.failed, true);
  assert.match(error.message, /why/);
});

smoke('$ passes each interpolated value as one argument', async () => {
  const result = await $`/bin/sh -c ${'printf "[%s]" "$@"'} sh ${'a b'} ${['c', 'd e']}`;
  assert.equal(result.stdout, '[a b][c][d e]');
});

smoke('run().pipe() joins two commands with one kernel pipe', async () => {
  const result = await trackRun(run('/bin/sh', ['-c', 'seq 1 5000'])).pipe('wc', ['-l']);
  assert.equal(result.stdout.trim(), '5000');
});

smoke("run()'s timeout ends the command, and the error says so", async () => {
  const error = await trackRun(run('/bin/sh', ['-c', 'sleep 30'], { timeout: 200 })).then(
    () => null,
    (e) => e,
  );
  assert.ok(error !== null);
  assert.equal(error.timedOut, true);
  assert.equal(error.signal, 'SIGTERM');
});

smoke("the lines of a run's stdout can be iterated as they come", async () => {
  const lines = [];
  for await (const line of trackRun(run('/bin/sh', ['-c', 'echo one; echo two; echo three']))) lines.push(line);
  assert.deepEqual(lines, ['one', 'two', 'three']);
});

// The drop-in is Node's child_process on pidfds where the runtime is Node, and the runtime's own
// child_process on Bun and Deno (whose ChildProcess is not Node's: on Bun, pidfd's setup of it
// threw "Attempted to assign to readonly property"). Either way a program that uses it, or a
// library under pidfd/register, works.
smoke('pidfd/child_process spawns, execFile captures, and pidfd/register leaves a working child_process', async () => {
  const cp = await import('../../dist/compat/child_process.js');
  const registration = await import('../../dist/compat/register.js');
  const builtin = await import('node:child_process');
  const child = cp.spawn('/bin/sh', ['-c', 'echo out; exit 3']);
  const out = collect(child.stdout);
  const [code, signal] = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (...ended) => resolve(ended));
  });
  assert.deepEqual([code, signal, await out], [3, null, 'out\n']);
  const captured = await new Promise((resolve, reject) =>
    cp.execFile('/bin/sh', ['-c', 'echo captured'], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
  assert.equal(captured, 'captured\n');
  assert.equal(cp.spawnSync('/bin/sh', ['-c', 'exit 5']).status, 5);
  const ownEngine = s.runtime === 'node' ? s.engines.run.name : 'portable';
  assert.equal(s.engines.childProcess.name, ownEngine, s.engines.childProcess.reason);
  registration.register();
  try {
    assert.equal(registration.isRegistered(), ownEngine === 'pidfd');
    assert.equal(builtin.execFileSync('/bin/sh', ['-c', 'echo registered'], { encoding: 'utf8' }), 'registered\n');
  } finally {
    registration.unregister();
  }
});

async function runCase({ name, fn }) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${LIMIT_MS} ms`)), LIMIT_MS);
  });
  try {
    const note = await Promise.race([fn(), limit]);
    return typeof note === 'string' ? { status: 'skip', note } : { status: 'pass' };
  } catch (error) {
    return { status: 'fail', note: error?.stack ?? String(error) };
  } finally {
    clearTimeout(timer);
    // Whatever the outcome, no child of the case outlives it (a tree with it).
    for (const child of started) {
      if (child.exitStatus !== null) continue;
      if (child.cgroup !== null) await child.cgroup.kill().catch(() => {});
      child.kill('SIGKILL');
      await child.exited.catch(() => {});
    }
    started.clear();
  }
}

const counts = { pass: 0, fail: 0, skip: 0 };
const label = `${s.runtime} ${process.versions[s.runtime === 'node' ? 'node' : s.runtime]}`;
console.log(`# pidfd smoke suite on ${label}, watcher ${s.watcher?.name}`);
for (const c of cases) {
  const result = await runCase(c);
  counts[result.status]++;
  console.log(`${result.status === 'fail' ? 'not ok' : 'ok'} ${c.name}${result.status === 'skip' ? ` # ${result.note}` : ''}`);
  if (result.status === 'fail') console.log(result.note.replace(/^/gm, '  # '));
}

// No fd left behind: every case runs a second time, and after it this process holds the fds
// it held after the first round. (Compared between rounds, not with the start: a runtime opens
// some fds of its own at its first child or first pipe, and keeps them.) Streams close their
// fds on later turns of the loop, later still on a loaded machine: the first reading is one that
// the next, 100 ms on, agrees with, and the second is waited for (up to 10 s) to match it.
const pause = () => new Promise((resolve) => setTimeout(resolve, 100));
let before = fds();
for (let previous = null; before !== previous; ) {
  previous = before;
  await pause();
  before = fds();
}
const again = [];
for (const c of cases) if ((await runCase(c)).status === 'fail') again.push(c.name);
let after = fds();
for (let waited = 0; after !== before && waited < 10_000; waited += 100) {
  await pause();
  after = fds();
}
if (again.length > 0 || after !== before) {
  counts.fail++;
  console.log('not ok a second round of every case leaves no fd behind');
  if (again.length > 0) console.log(`  # failed the second time: ${again.join('; ')}`);
  if (after !== before) console.log(`after the first round:\n${before}\nafter the second:\n${after}`.replace(/^/gm, '  # '));
} else {
  counts.pass++;
  console.log('ok a second round of every case leaves no fd behind');
}
console.log(`# ${label}: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped`);
process.exitCode = counts.fail > 0 ? 1 : 0;
