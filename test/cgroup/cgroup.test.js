// Per-run cgroups (src/cgroup/, spawn's `cgroup: true | settings`, subprocess.cgroup): the
// whole tree of a child — setsid'd, double-forked and stubborn members included — is killed,
// frozen, measured and waited for, and its directory is gone afterwards (issue 9).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn, support } from '../../dist/index.js';
import { forceFreezeKill } from '../../dist/internal/testing.js';
import { aliveNotZombie as alive, eventually, fixtures, fdDiff, fdSnapshot, procStat, readAll, thrownNotStarted, withTimeout } from '../helpers/index.js';

const { perRunCgroup } = support().features;
const skip = !perRunCgroup.available && `per-run cgroups cannot be made here: ${perRunCgroup.reason}`;
const cgroups = support().cgroups;

/** Starts test/fixtures/tree.sh in a per-run cgroup; resolves with the members' pids once all run. */
async function startTree(options = {}) {
  const sub = spawn(join(fixtures, 'tree.sh'), [], { stdio: ['ignore', 'pipe', 'inherit'], cgroup: true, ...options });
  const members = {};
  let buffered = '';
  sub.stdout.setEncoding('utf8');
  await withTimeout(
    new Promise((resolve) => {
      sub.stdout.on('data', (chunk) => {
        buffered += chunk;
        for (const [, role, pid] of buffered.matchAll(/^(setsid|daemon|stubborn) (\d+)$/gm)) members[role] = Number(pid);
        if (Object.keys(members).length === 3 && buffered.includes('ready')) resolve();
      });
    }),
    20_000,
    'the tree to start',
  );
  sub.stdout.resume();
  return { sub, members };
}

describe('spawn(): cgroup: true', { skip }, () => {
  for (const backend of ['clone3', 'clone', 'fork']) {
    test(`the child runs in a cgroup of its own from its first instruction (${backend} backend)`, async (t) => {
      if (backend === 'clone3' && !support().features.clone3.available) return t.skip('clone3 is refused here');
      const sub = spawn('/bin/sh', ['-c', 'cat /proc/self/cgroup'], { stdio: ['ignore', 'pipe', 'inherit'], cgroup: true, backend });
      const path = sub.cgroup.path;
      assert.match(path, new RegExp(`/pidfd-${process.pid}-\\d+$`));
      const [out] = await Promise.all([readAll(sub.stdout), sub.exited, sub.cgroup.empty]);
      const own = /^0::(.*)$/m.exec(out)[1];
      assert.ok(path.endsWith(own), `the child was in ${own}, its cgroup is ${path}`);
      assert.equal(existsSync(path), false, 'the directory is removed');
    });
  }

  test('kill() ends every member — setsid, double fork, SIGTERM ignored — and empty resolves after the last is gone', async () => {
    const { sub, members } = await startTree();
    const path = sub.cgroup.path;
    assert.equal(sub.cgroup.pids().length >= 4, true);
    await sub.cgroup.kill();
    const [status, stats] = await withTimeout(Promise.all([sub.exited, sub.cgroup.empty]), 20_000, 'the tree to end');
    assert.equal(status.signal, 'SIGKILL');
    for (const [role, pid] of Object.entries(members)) assert.equal(alive(pid), false, `${role} ${pid} survived`);
    assert.equal(existsSync(path), false);
    assert.equal(typeof stats.cpu.usageUs, 'number');
  });

  test('the freeze path (no cgroup.kill) ends every member too', async (t) => {
    forceFreezeKill(true);
    t.after(() => forceFreezeKill(false));
    const { sub, members } = await startTree();
    await sub.cgroup.kill('SIGKILL');
    await withTimeout(Promise.all([sub.exited, sub.cgroup.empty]), 20_000, 'the tree to end');
    for (const [role, pid] of Object.entries(members)) assert.equal(alive(pid), false, `${role} ${pid} survived`);
  });

  test('kill(SIGTERM) reaches every member, the stubborn one ignores it, and SIGKILL then ends it', async () => {
    const { sub, members } = await startTree();
    await sub.cgroup.kill('SIGTERM');
    await eventually(() => !alive(members.setsid) && !alive(members.daemon), 'the setsid and daemon members to end on SIGTERM');
    assert.equal(alive(members.stubborn), true, 'it ignores SIGTERM');
    await sub.cgroup.kill('SIGKILL');
    await withTimeout(sub.cgroup.empty, 20_000, 'the tree to end');
    assert.equal(alive(members.stubborn), false);
  });

  test('a stopped member is continued after a terminating signal, and ends', async () => {
    const sub = spawn('/bin/sh', ['-c', 'sleep 300 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'inherit'], cgroup: true });
    // The whole first line: a first chunk may hold only part of the number, and a wrong pid
    // here would stop some other process.
    let line = '';
    for await (const chunk of sub.stdout.iterator({ destroyOnReturn: false })) {
      line += chunk;
      if (line.includes('\n')) break;
    }
    const pid = Number(line.split('\n')[0]);
    assert.ok(Number.isSafeInteger(pid) && pid > 0, `the member's pid, not ${JSON.stringify(line)}`);
    sub.stdout.resume();
    process.kill(pid, 'SIGSTOP');
    await eventually(() => procStat(pid)[0] === 'T', 'the member to stop');
    await sub.cgroup.kill('SIGTERM');
    await withTimeout(Promise.all([sub.exited, sub.cgroup.empty]), 20_000, 'the tree to end');
    assert.equal(alive(pid), false);
  });

  test('empty waits for daemons that outlive the child', async () => {
    const sub = spawn('/bin/sh', ['-c', '(sleep 0.5 &); echo started'], { stdio: ['ignore', 'pipe', 'inherit'], cgroup: true });
    sub.stdout.resume();
    await sub.exited;
    const left = sub.cgroup.pids();
    assert.equal(left.length, 1, 'the daemon outlived the child');
    await withTimeout(sub.cgroup.empty, 20_000, 'the daemon to end');
    assert.equal(alive(left[0]), false, 'empty resolved only once the daemon was gone');
  });

  test('freeze() and thaw() wait for the kernel to say so', async () => {
    const { sub } = await startTree();
    await sub.cgroup.freeze();
    assert.match(readFileSync(join(sub.cgroup.path, 'cgroup.events'), 'latin1'), /^frozen 1$/m);
    await sub.cgroup.thaw();
    assert.match(readFileSync(join(sub.cgroup.path, 'cgroup.events'), 'latin1'), /^frozen 0$/m);
    await sub.cgroup.kill();
    await sub.cgroup.empty;
  });

  test('stats() gives the CPU time of the whole tree, waited for or not', async () => {
    const sub = spawn('/bin/sh', ['-c', '(i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done) & wait'], { stdio: 'ignore', cgroup: true });
    const [, stats] = await Promise.all([sub.exited, sub.cgroup.empty]);
    assert.ok(stats.cpu.usageUs > 0 && stats.cpu.userUs + stats.cpu.systemUs > 0, JSON.stringify(stats));
    assert.deepEqual(sub.cgroup.stats(), stats, 'after the end, stats() gives the final figures');
    const controllers = cgroups.controllers;
    assert.equal(stats.memory === null, !controllers.includes('memory'));
    assert.equal(stats.pids === null, !controllers.includes('pids'));
  });

  test('unref() lets Node exit while the tree lives; ref() (the default) waits for the whole tree', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = (unref) => `
      import { spawn } from ${JSON.stringify(join(fixtures, '..', '..', 'dist', 'index.js'))};
      const sub = spawn('/bin/sh', ['-c', '(sleep 0.6 &)'], { stdio: 'ignore', cgroup: true });
      ${unref ? 'sub.unref();' : ''}
      const started = Date.now();
      process.on('exit', () => console.log(JSON.stringify({ waited: Date.now() - started >= 500, path: sub.cgroup.path })));`;
    assert.equal(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script(false)], { encoding: 'utf8' })).waited, true);
    const unrefd = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script(true)], { encoding: 'utf8' }));
    assert.equal(unrefd.waited, false);
    // What that costs (docs/trees.md): nobody is left to remove the directory of the tree, which
    // outlived the process. It is empty once the tree ends; the test removes it.
    await eventually(() => readFileSync(join(unrefd.path, 'cgroup.events'), 'latin1').includes('populated 0'), 'the tree to end');
    rmdirSync(unrefd.path);
  });
});

describe('spawn(): cgroup settings and failures', { skip }, () => {
  const leftovers = () => readdirSync(cgroups.parent).filter((name) => name.startsWith(`pidfd-${process.pid}-`));

  test('a directory removed from outside once its tree is empty still ends the watch: empty resolves', async () => {
    const sub = spawn('/bin/true', [], { stdio: 'ignore', cgroup: true });
    const path = sub.cgroup.path;
    // Removed before this event loop can see the tree end (as another process's sweep could):
    // rmdir succeeds only once the tree is empty, so try until then without yielding.
    for (;;) {
      try {
        rmdirSync(path);
        break;
      } catch (error) {
        if (error.code !== 'EBUSY') throw error;
      }
    }
    await withTimeout(Promise.all([sub.exited, sub.cgroup.empty]), 20_000, 'the exit and the empty tree');
    assert.equal(existsSync(path), false);
  });

  test("a leftover directory with this process's pid and the next number does not stop a per-run cgroup", async () => {
    const { execFileSync } = await import('node:child_process');
    // A fresh process, whose first cgroup would be pidfd-<pid>-1: it is there already (as a
    // process with the same pid, killed, would have left it).
    const script = `
      import { mkdirSync, rmdirSync } from 'node:fs';
      import { join } from 'node:path';
      import { spawn, support } from ${JSON.stringify(join(fixtures, '..', '..', 'dist', 'index.js'))};
      const taken = join(support().cgroups.parent, 'pidfd-' + process.pid + '-1');
      mkdirSync(taken);
      try {
        const sub = spawn('/bin/true', [], { stdio: 'ignore', cgroup: true });
        const path = sub.cgroup.path;
        await Promise.all([sub.exited, sub.cgroup.empty]);
        console.log(JSON.stringify({ path, taken }));
      } finally {
        rmdirSync(taken);
      }`;
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    assert.notEqual(r.path, r.taken);
    assert.match(r.path, /-2$/);
  });

  test('cgroup: a URL or another non-plain object is refused, not taken for settings', () => {
    for (const value of [new URL('file:///sys/fs/cgroup'), new Date(), []]) {
      const error = thrownNotStarted(() => spawn('/bin/true', [], { stdio: 'ignore', cgroup: value }));
      assert.equal(error.code, 'ERR_INVALID_ARG_TYPE', String(value));
    }
  });

  test('a directory that is no cgroup is said to be one, on every backend', () => {
    for (const backend of ['clone3', 'clone', 'fork']) {
      if (backend === 'clone3' && !support().features.clone3.available) continue;
      const error = thrownNotStarted(() => spawn('/bin/true', [], { stdio: 'ignore', cgroup: tmpdir(), backend }));
      assert.match(error.message, /not a cgroup v2 directory/, backend);
      assert.doesNotMatch(error.message, /removed/, backend);
    }
  });

  test('a program that cannot start leaves no cgroup, no fd, no child', () => {
    const fdsBefore = fdSnapshot();
    const error = thrownNotStarted(() => spawn('/nonexistent/program', [], { stdio: 'ignore', cgroup: true }));
    assert.equal(error.code, 'ENOENT');
    assert.deepEqual(leftovers(), []);
    assert.equal(fdDiff(fdsBefore), '');
  });

  test('a limit whose controller the parent does not enable is a clear error naming it, before anything starts', (t) => {
    const missing = ['memory', 'pids', 'cpu'].find((c) => !cgroups.controllers.includes(c));
    if (missing === undefined) return t.skip('every limit controller is enabled here');
    const option = { memory: 'memoryMax', pids: 'pidsMax', cpu: 'cpuMax' }[missing];
    const error = thrownNotStarted(() => spawn('true', [], { stdio: 'ignore', cgroup: { [option]: missing === 'pids' ? 10 : missing === 'cpu' ? 0.5 : '64M' } }));
    assert.equal(error.code, 'ERR_PIDFD_CGROUP_CONTROLLER');
    assert.equal(error.controller, missing);
    assert.match(error.message, new RegExp(`cgroup\\.${option} needs the ${missing} controller`));
    assert.deepEqual(leftovers(), []);
  });

  const bad = [
    [{ memoryMax: -1 }, 'ERR_OUT_OF_RANGE', 'cgroup.memoryMax'],
    [{ memoryMax: '12 parsecs' }, 'ERR_INVALID_ARG_VALUE', 'cgroup.memoryMax'],
    [{ pidsMax: 0 }, 'ERR_OUT_OF_RANGE', 'cgroup.pidsMax'],
    [{ cpuMax: 'fast' }, 'ERR_INVALID_ARG_VALUE', 'cgroup.cpuMax'],
    [{ cpuWeight: 20000 }, 'ERR_OUT_OF_RANGE', 'cgroup.cpuWeight'],
    [{ memroyMax: 1 }, 'ERR_INVALID_ARG_VALUE', 'memroyMax'],
    [{ parent: 5 }, 'ERR_INVALID_ARG_TYPE', 'cgroup.parent'],
  ];
  for (const [settings, code, named] of bad) {
    test(`cgroup: ${JSON.stringify(settings)} throws ${code} naming ${named}`, () => {
      const error = thrownNotStarted(() => spawn('true', [], { stdio: 'ignore', cgroup: settings }));
      assert.equal(error.code, code, error.message);
      assert.ok(error.message.includes(named), error.message);
      assert.deepEqual(leftovers(), []);
    });
  }

  test('a parent that cannot hold cgroups is ERR_PIDFD_CGROUP_UNAVAILABLE saying why', () => {
    for (const parent of ['/nonexistent-pidfd-parent', '/proc']) {
      const error = thrownNotStarted(() => spawn('true', [], { stdio: 'ignore', cgroup: { parent } }));
      assert.ok(['ERR_PIDFD_CGROUP_UNAVAILABLE', 'EACCES', 'EPERM', 'ENOENT'].includes(error.code), `${parent}: ${error.code} ${error.message}`);
      assert.ok(error.message.includes(parent), error.message);
    }
  });

  test('an explicit parent, and $PIDFD_CGROUP_PARENT, choose where the cgroup is made', async (t) => {
    const parent = join(cgroups.mount, `pidfd-test-parent-${process.pid}`);
    mkdirSync(parent);
    t.after(() => rmdirSync(parent));
    const sub = spawn('true', [], { stdio: 'ignore', cgroup: { parent } });
    assert.equal(sub.cgroup.path.startsWith(`${parent}/pidfd-`), true);
    await sub.cgroup.empty;
    assert.deepEqual(readdirSync(parent).filter((n) => n.startsWith('pidfd-')), []);
  });
});

describe('per-run cgroups and the end of a worker', { skip }, () => {
  test("a worker's running tree is reaped, and its cgroup removed, after the worker is gone", async () => {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(
      `import { parentPort } from 'node:worker_threads';
       import { spawn } from ${JSON.stringify(join(fixtures, '..', '..', 'dist', 'index.js'))};
       const sub = spawn('/bin/sh', ['-c', '(sleep 0.4 &); exec sleep 0.2'], { stdio: 'ignore', cgroup: true });
       parentPort.postMessage(sub.cgroup.path);
       setInterval(() => {}, 1000);`,
      { eval: true, type: 'module' },
    );
    const path = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(existsSync(path), true, 'the tree lives on after the worker');
    await eventually(() => !existsSync(path), `${path} to be removed once the tree ended`);
  });
});

describe('setupCgroupSubtree()', { skip }, () => {
  test('moves this process into a leaf of its cgroup, which then holds the per-run cgroups', async (t) => {
    const { execFileSync } = await import('node:child_process');
    // A process of its own, in a cgroup made for the test: the test process stays where it is.
    const base = join(cgroups.mount, `pidfd-test-subtree-${process.pid}`);
    mkdirSync(base);
    t.after(() => {
      for (const dir of [join(base, 'main'), base]) if (existsSync(dir)) rmdirSync(dir);
    });
    const script = `
      import { writeFileSync } from 'node:fs';
      writeFileSync(${JSON.stringify(join(base, 'cgroup.procs'))}, String(process.pid));
      const { spawn, setupCgroupSubtree } = await import(${JSON.stringify(join(fixtures, '..', '..', 'dist', 'index.js'))});
      const setup = setupCgroupSubtree({ controllers: [] });
      const sub = spawn('/bin/sh', ['-c', 'cat /proc/self/cgroup'], { stdio: ['ignore', 'pipe', 'inherit'], cgroup: true });
      let out = ''; sub.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      // The output's end, not only the exit: the last chunk may be read after the reap.
      await Promise.all([sub.exited, sub.cgroup.empty, new Promise((resolve) => sub.stdout.on('end', resolve))]);
      console.log(JSON.stringify({ setup, mine: /^0::(.*)$/m.exec(await import('node:fs').then((fs) => fs.readFileSync('/proc/self/cgroup', 'utf8')))[1], child: /^0::(.*)$/m.exec(out)[1] }));`;
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    const rel = base.slice(cgroups.mount.length);
    assert.equal(r.setup.parent, base);
    assert.equal(r.mine, `${rel}/main`);
    assert.match(r.child, new RegExp(`^${rel}/pidfd-\\d+-\\d+$`));
  });
});

describe('limits, where the parent delegates the controllers', { skip }, () => {
  const needs = (t, controller) => {
    if (cgroups.controllers.includes(controller)) return false;
    t.skip(
      `the ${controller} controller is not enabled for the children of ${cgroups.parent} ` +
        `(its cgroup.subtree_control: ${cgroups.controllers.join(' ') || 'nothing'}; in a hybrid layout they may be on cgroup v1)`,
    );
    return true;
  };

  test('memoryMax: a tree that allocates beyond it ends in an OOM kill, and the exit status says so', async (t) => {
    if (needs(t, 'memory')) return;
    // A string that doubles until it cannot: far past 64 MiB.
    const sub = spawn('/bin/sh', ['-c', 'x=0123456789abcdef; while :; do x=$x$x; done'], { stdio: 'ignore', cgroup: { memoryMax: '64M' } });
    const [status, stats] = await withTimeout(Promise.all([sub.exited, sub.cgroup.empty]), 60_000, 'the OOM kill');
    assert.equal(status.signal, 'SIGKILL');
    assert.equal(status.oomKilled, true);
    assert.ok(stats.oomKills >= 1, JSON.stringify(stats));
    assert.ok(stats.memory.peak <= 64 * 2 ** 20 + 2 ** 20, `peak ${stats.memory.peak}`);
  });

  test('pidsMax: a fork bomb stops at pids.max', async (t) => {
    if (needs(t, 'pids')) return;
    const sub = spawn('/bin/sh', ['-c', 'n=0; while [ $n -lt 50 ]; do (sleep 30 &) 2>/dev/null; n=$((n+1)); done; echo done'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      cgroup: { pidsMax: 10 },
    });
    await withTimeout(Promise.all([readAll(sub.stdout), sub.exited]), 30_000, 'the bomb to stop');
    const stats = sub.cgroup.stats();
    assert.ok(stats.pids.peak <= 10, `peak ${stats.pids.peak}`);
    await sub.cgroup.kill();
    await sub.cgroup.empty;
  });

  test('cpuMax and cpuWeight are written as the kernel takes them', async (t) => {
    if (needs(t, 'cpu')) return;
    const sub = spawn('sleep', ['5'], { stdio: 'ignore', cgroup: { cpuMax: 0.5, cpuWeight: 50 } });
    assert.equal(readFileSync(join(sub.cgroup.path, 'cpu.max'), 'latin1').trim(), '50000 100000');
    assert.equal(readFileSync(join(sub.cgroup.path, 'cpu.weight'), 'latin1').trim(), '50');
    await sub.cgroup.kill();
    await sub.cgroup.empty;
  });
});
