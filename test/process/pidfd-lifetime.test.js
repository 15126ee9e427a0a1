// PidFd lifetime (issue 8, items 4, 5 and 9): a PidFd that is dropped without close() has its fd
// closed by the garbage collector; a worker's PidFds, pending exited() and exit watcher go with
// the worker; an fd the library owns cannot be adopted twice; exited() after close() resolves
// with null.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { PidFd, spawn } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import { eventually, fdDiff, fdSnapshot, fixtures, reaped, root } from '../helpers/index.js';

const tasks = () => readdirSync('/proc/self/task').length;

describe('PidFd: garbage collection', () => {
  test('5,200 PidFds dropped without close() have their fds closed once collected', () => {
    const script = `
      import { readdirSync } from 'node:fs';
      import { PidFd } from ${JSON.stringify(`${root}/dist/index.js`)};
      const count = () => readdirSync('/proc/self/fd').length;
      PidFd.self().close();
      const before = count();
      for (let i = 0; i < 5200; i++) PidFd.self();
      const held = count();
      for (let i = 0; i < 50 && count() > before; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log(JSON.stringify({ before, held, after: count() }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' }));
    assert.equal(out.held - out.before, 5200, 'each PidFd held its fd');
    assert.equal(out.after, out.before, 'the collector closed every one');
  });

  test('a PidFd that is closed, then collected, closes nothing a second time', () => {
    const script = `
      import { openSync, readFileSync } from 'node:fs';
      import { PidFd } from ${JSON.stringify(`${root}/dist/index.js`)};
      for (let i = 0; i < 200; i++) PidFd.self().close();
      // Files opened now take the numbers those PidFds had: the collector must leave them alone.
      const files = Array.from({ length: 200 }, () => openSync('/dev/null', 'r'));
      for (let i = 0; i < 10; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      let open = 0;
      for (const fd of files) { try { readFileSync('/proc/self/fdinfo/' + fd); open++; } catch {} }
      console.log(open);`;
    assert.equal(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' }).trim(), '200');
  });
});

describe('PidFd: a worker that ends', () => {
  test("its PidFds, a pending exited(), its ProcDir and its exit watcher go with it; its running child is still reaped", async (t) => {
    const target = spawn('sleep', ['60'], { stdio: 'ignore' });
    t.after(() => target.kill('SIGKILL'));
    // A first worker, so that Node's own per-worker resources are warm in the baseline.
    const warm = new Worker('process.exit(0)', { eval: true });
    await new Promise((resolve) => warm.once('exit', resolve));
    const fdsBefore = fdSnapshot();
    const tasksBefore = tasks();
    const worker = new Worker(join(fixtures, 'worker-leaves-pidfds.mjs'), { workerData: { target: target.pid, childSeconds: '0.3' } });
    const { child, held } = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(held, 52);
    await worker.terminate();
    await eventually(() => reaped(child), `the worker's child ${child} reaped`);
    await eventually(() => tasks() === tasksBefore, `no thread left (${tasks()} tasks, ${tasksBefore} before)`);
    assert.equal(fdDiff(fdsBefore), '', 'no fd of the worker is left');
  });
});

describe('PidFd.fromFd(): ownership', () => {
  test("refuses a Subprocess's pidfd, pointing to dup()", async () => {
    const sub = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const error = (() => {
        try {
          PidFd.fromFd(sub.pidfd.fd);
        } catch (e) {
          return e;
        }
      })();
      assert.equal(error?.code, 'ERR_PIDFD_OWNED');
      assert.match(error.message, /dup\(\)/);
      const mine = sub.pidfd.dup();
      assert.equal(mine.sendSignal(0), true);
      mine.close();
    } finally {
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test("refuses another PidFd's fd, and takes a dup of it", () => {
    const first = PidFd.self();
    try {
      assert.equal((() => { try { PidFd.fromFd(first.fd); } catch (e) { return e.code; } })(), 'ERR_PIDFD_OWNED');
      const raw = native().dup(first.fd);
      const second = PidFd.fromFd(raw);
      assert.equal(second.pid, process.pid);
      second.close();
    } finally {
      first.close();
    }
  });
});

describe('PidFd: after close()', () => {
  test('exited() resolves with null, as when the PidFd is closed while it waits', async () => {
    const handle = PidFd.self();
    handle.close();
    assert.equal(await handle.exited(), null);
    const other = PidFd.self();
    const pending = other.exited();
    other.close();
    assert.equal(await pending, null);
  });

  test('PidFd.open() of a thread id without { thread: true } says it is a thread of its process', () => {
    const tid = readdirSync('/proc/self/task').map(Number).find((t) => t !== process.pid);
    const error = (() => {
      try {
        PidFd.open(tid);
      } catch (e) {
        return e;
      }
    })();
    assert.equal(error.code, 'ENOENT');
    assert.match(error.message, new RegExp(`${tid} is a thread of process ${process.pid}.*\\{ thread: true \\}`));
  });
});
