// A run created now and started later: the `halt` option and runProcess.run() (zx's
// `$({ halt: true })` and `p.run()`). Nothing is opened, spawned, listened to or logged until
// run(); awaiting waits for run() and the end; kill() before run() cancels; a pipeline from a
// halted command starts as one; a halted run that is dropped leaves nothing behind.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { $, run, RunError, runSync, Subprocess, within } from '../../dist/index.js';
import { portable } from '../helpers/engine.js';
import { childPids, root, runScript, thrown } from '../helpers/index.js';
import { leakFree } from './helpers.js';

/** A fresh directory for marker files, removed by the test's end. */
function scratch(t) {
  const dir = mkdtempSync(join(tmpdir(), 'pidfd-halt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether `promise` has settled, after a full run of another command (event loop turns, a
 * child started and reaped): a run that had started would have had its pid at once. */
async function settledYet(promise) {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await run('true');
  return settled;
}

describe('halt: true, then run()', () => {
  test('$({ halt: true })`…` starts nothing until run(); run() starts it and returns the same RunProcess', leakFree(async (t) => {
    const marker = join(scratch(t), 'ran');
    const before = childPids();
    const p = $({ halt: true })`touch ${marker}`;
    assert.equal(p.pid, undefined, 'no pid before run()');
    assert.equal(p.subprocess, undefined, 'no subprocess before run()');
    assert.deepEqual(childPids(), before, 'no child');
    assert.equal(await settledYet(p), false, 'awaiting waits for run()');
    assert.equal(existsSync(marker), false, 'the command has not run');
    assert.equal(p.run(), p, 'run() returns the RunProcess itself');
    assert.equal(typeof p.pid, 'number', 'the pid is there as soon as run() returns');
    if (!portable) assert.ok(p.subprocess instanceof Subprocess);
    const result = await p;
    assert.equal(result.exitCode, 0);
    assert.equal(existsSync(marker), true, 'the command ran');
  }));

  test('run(file, args, { halt: true }) and $(file, args, { halt: true }) wait the same way; `await p.run()` gives the result', leakFree(async () => {
    const a = run('echo', ['from run()'], { halt: true });
    const b = $('echo', ['from $()'], { halt: true });
    const text = b.text(); // asked before run(): given once it has run
    assert.equal(a.pid, undefined);
    assert.equal(b.pid, undefined);
    assert.equal(await settledYet(text), false);
    assert.equal((await a.run()).stdout, 'from run()');
    b.run();
    assert.equal(await text, 'from $()');
  }));

  test('run() twice, or after the end, starts nothing more; run() on a run that was not halted returns it', leakFree(async (t) => {
    const log = join(scratch(t), 'log');
    const p = run('sh', ['-c', `echo once >> '${log}'`], { halt: true });
    p.run();
    const pid = p.pid;
    assert.equal(p.run(), p);
    assert.equal(p.pid, pid, 'the same process');
    await p;
    p.run();
    const q = run('sh', ['-c', `echo started >> '${log}'`]);
    assert.equal(q.run(), q, 'harmless on a run that started when it was created');
    await q;
    assert.equal(await p.run(), await p, 'the same result');
    assert.equal(readFileSync(log, 'utf8'), 'once\nstarted\n', 'each command ran once');
  }));

  test('a failure rejects after run() as any run does; .nothrow() before run() makes it resolve', leakFree(async () => {
    const failing = run('sh', ['-c', 'exit 3'], { halt: true });
    const rejected = failing.then(
      () => assert.fail('resolved'),
      (error) => error,
    );
    failing.run();
    const error = await rejected;
    assert.ok(error instanceof RunError);
    assert.equal(error.exitCode, 3);
    const tolerated = $({ halt: true })`sh -c ${'exit 4'}`.nothrow();
    assert.equal((await tolerated.run()).exitCode, 4);
  }));

  test('for await over a halted run waits for run(), then gives its lines', leakFree(async () => {
    const p = run('printf', ['a\\nb\\n'], { halt: true });
    const lines = (async () => {
      const seen = [];
      for await (const line of p) seen.push(line);
      return seen;
    })();
    assert.equal(await settledYet(lines), false);
    p.run();
    assert.deepEqual(await lines, ['a', 'b']);
  }));
});

describe('before run(): kill(), signal, timeout, verbose, within()', () => {
  test('kill() before run(): nothing ever starts, the run settles at once as canceled, run() after it does nothing', leakFree(async () => {
    const before = childPids();
    const p = run('echo', ['never'], { halt: true });
    assert.equal(p.kill(), false, 'no process received it');
    const error = await p.then(
      () => assert.fail('resolved'),
      (e) => e,
    );
    assert.ok(error instanceof RunError);
    assert.equal(error.isCanceled, true);
    assert.equal(error.shortMessage, 'Command was canceled before it started: echo never');
    assert.equal(error.cause.name, 'AbortError');
    assert.equal(error.code, 'ABORT_ERR');
    assert.match(error.cause.message, /kill\(SIGTERM\) was called before run\(\)/);
    assert.equal(error.pid, undefined);
    assert.equal(p.run(), p);
    assert.equal(p.pid, undefined, 'run() after kill() starts nothing');
    assert.deepEqual(childPids(), before);
    // await using: its dispose (SIGKILL) cancels a halted run the same way.
    const disposed = run('echo', ['never'], { halt: true, reject: false });
    await disposed[Symbol.asyncDispose]();
    assert.equal((await disposed).isCanceled, true);
  }));

  test('kill() with a signal that ends no process (SIGSTOP, SIGCONT) leaves a halted run halted', leakFree(async () => {
    const p = run('echo', ['later'], { halt: true });
    assert.equal(p.kill('SIGSTOP'), false);
    assert.equal(p.kill('SIGCONT'), false);
    assert.equal(await settledYet(p), false);
    assert.equal((await p.run()).stdout, 'later');
  }));

  test('a `signal` aborted before run() cancels the run at run(): nothing starts', leakFree(async () => {
    const controller = new AbortController();
    const p = run('echo', ['never'], { halt: true, signal: controller.signal });
    controller.abort(new Error('not needed'));
    // Nothing listens to the signal before run(): the run settles when run() finds it aborted.
    assert.equal(await settledYet(p), false);
    const before = childPids();
    p.run();
    assert.equal(p.pid, undefined);
    assert.deepEqual(childPids(), before);
    const error = await p.catch((e) => e);
    assert.equal(error.isCanceled, true);
    assert.equal(error.shortMessage, 'Command was canceled before it started: echo never');
    assert.equal(error.cause.code, 'ABORT_ERR');
    assert.equal(error.cause.cause.message, 'not needed', "the signal's reason");
  }));

  test('`timeout` and durationMs count from run(), not from the creation', leakFree(async () => {
    const timeout = 300;
    const p = run('sleep', ['60'], { halt: true, timeout });
    await sleep(2 * timeout); // longer than the timeout, before run()
    const ranAt = performance.now();
    p.run();
    const error = await p.catch((e) => e);
    const sinceRun = performance.now() - ranAt;
    assert.equal(error.timedOut, true);
    // Had the timer started with the creation, it would have fired at once.
    assert.ok(sinceRun >= timeout - 20, `killed ${sinceRun} ms after run(), before its ${timeout} ms`);
    assert.ok(error.durationMs <= sinceRun + 1, `durationMs ${error.durationMs} counts from run() (${sinceRun} ms ago)`);
  }));

  test('`verbose` logs the command when run() starts it, not when it is created', leakFree(async () => {
    const source = `import { $ } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
      const p = $({ verbose: 'short', halt: true })\`echo logged\`;
      process.stderr.write('created\\n');
      await p.run();`;
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', source], { env: { PIDFD_VERBOSE: undefined, NO_COLOR: undefined } });
    const log = stderr.split('\n');
    assert.equal(log[0], 'created', stderr);
    assert.match(log[1], /\$ echo logged$/);
    assert.match(log[2], /✔ done in/);
  }));

  test('within(): the options of the scope where it was created, wherever run() is called', leakFree(async () => {
    const p = within({ cwd: '/', env: { SCOPED: 'creation' } }, () => $({ halt: true })`sh -c ${'echo "$(pwd) $SCOPED"'}`);
    await within({ cwd: tmpdir(), env: { SCOPED: 'run' } }, () => p.run());
    assert.equal((await p).stdout, '/ creation');
  }));
});

describe('pipelines', () => {
  test('a command piped from a halted one is halted too; run() on the last starts the pipeline from the first', leakFree(async () => {
    const first = $({ halt: true })`printf ${'b\na\n'}`;
    const last = first.pipe`sort`;
    assert.equal(first.pid, undefined);
    assert.equal(last.pid, undefined);
    assert.equal(await settledYet(last), false);
    assert.equal(last.run(), last);
    assert.equal(typeof first.pid, 'number');
    assert.equal(typeof last.pid, 'number');
    const result = await last;
    assert.equal(result.stdout, 'a\nb');
    assert.equal(result.pipedFrom.length, 1);
  }));

  test('run() on the first command starts the commands piped from it too', leakFree(async () => {
    const first = run('printf', ['x\\ny\\n'], { halt: true });
    const middle = first.pipe('sort', ['-r']);
    const last = middle.pipe('head', ['-n', '1']);
    first.run();
    assert.equal(typeof middle.pid, 'number');
    assert.equal(typeof last.pid, 'number');
    assert.equal((await last).stdout, 'y');
  }));

  test('the output of a halted command is the piped one\'s from pipe() on: a second pipe() or an iteration is refused', () => {
    const first = run('echo', ['x'], { halt: true });
    first.pipe('cat');
    assert.equal(thrown(() => first.pipe('cat')).code, 'ERR_PIDFD_STDOUT_TAKEN');
    assert.equal(thrown(() => first.iterable()).code, 'ERR_PIDFD_STDOUT_TAKEN');
    first.kill(); // never started: nothing to wait for
  });

  test('piped from a running command, a command started with `halt` starts at once (zx: piping into a halted process runs it)', leakFree(async () => {
    const last = run('printf', ['z']).pipe('cat', [], { halt: true });
    assert.equal(typeof last.pid, 'number');
    assert.equal((await last).stdout, 'z');
  }));

  test('kill() on the last command of a halted pipeline cancels it and the commands piped into it; none starts', leakFree(async () => {
    const before = childPids();
    const first = run('echo', ['x'], { halt: true, reject: false });
    const last = first.pipe('cat', [], { reject: false });
    assert.equal(last.kill(), false);
    const outcome = await last;
    assert.equal(outcome.isCanceled, true);
    assert.equal((await first).isCanceled, true);
    last.run();
    assert.equal(first.pid, undefined);
    assert.equal(last.pid, undefined);
    assert.deepEqual(childPids(), before);
  }));

  test('kill() on the first command of a halted pipeline: the pipeline fails with its cancel, nothing starts', leakFree(async () => {
    const first = run('echo', ['x'], { halt: true });
    const last = first.pipe('cat');
    first.kill();
    const error = await last.catch((e) => e);
    assert.equal(error.isCanceled, true);
    assert.equal(error.command, 'echo x', "the first command's cancel is the pipeline's failure");
    assert.equal(last.pid, undefined);
  }));
});

describe('what halt refuses, and what it leaves behind', () => {
  test('runSync() and $.sync refuse `halt` with a TypeError naming it; `halt: false` is accepted', () => {
    for (const call of [() => runSync('true', { halt: true }), () => $.sync({ halt: true })`true`, () => $({ halt: true }).sync`true`]) {
      const error = thrown(call);
      assert.ok(error instanceof TypeError);
      assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
      assert.match(error.message, /^The `halt` option cannot be given to (runSync\(\)|\$\.sync)/);
    }
    assert.equal(runSync('echo', ['x'], { halt: false }).stdout, 'x');
  });

  test('a `halt` that is not a boolean is refused before anything', () => {
    const error = thrown(() => run('true', { halt: 'yes' }));
    assert.ok(error instanceof TypeError);
    assert.equal(error.code, 'ERR_INVALID_ARG_TYPE');
    assert.match(error.message, /`halt`/);
  });

  test('halted runs that are never started and dropped leave nothing: no fd, no child, no cgroup, no file, nothing keeping Node alive', () => {
    // A fresh Node: no watchdog and no per-run cgroup yet, so any made by the creation would show.
    const report = runScript(`
      import { readdirSync, existsSync, readFileSync } from 'node:fs';
      const { probeCgroups } = await import(${JSON.stringify(join(root, 'dist', 'cgroup', 'hierarchy.js'))});
      const fds = () => readdirSync('/proc/self/fd').sort().join(',');
      const children = () => readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
        try { return readFileSync('/proc/' + p + '/stat', 'utf8').split(') ')[1].split(' ')[1] === String(process.pid); } catch { return false; }
      });
      const parent = probeCgroups().parent;
      const cgroups = () => parent === null ? [] : readdirSync(parent).filter((n) => n.startsWith('pidfd-' + process.pid + '-'));
      pidfd.support(); // the engine decided, its addon loaded: what the first run of any kind does once
      const before = fds();
      const file = '/tmp/pidfd-halt-never-' + process.pid;
      const controller = new AbortController();
      for (let i = 0; i < 50; i++) {
        pidfd.run('sleep', ['60'], { halt: true, timeout: 60000, signal: controller.signal, stdout: { file }, tree: true, cleanup: true, verbose: 'short' });
        pidfd.$({ halt: true, inputFile: '/etc/hostname' })\`cat\`.pipe\`cat\`;
        pidfd.run(process.execPath, ['-e', '0'], { halt: true, ipc: true, node: true });
      }
      console.log(JSON.stringify({ fdsSame: fds() === before, children: children().length, cgroups: cgroups().length, file: existsSync(file) }));
    `);
    // The script has exited (runScript waits for it): nothing kept its event loop alive.
    assert.deepEqual(report, { fdsSame: true, children: 0, cgroups: 0, file: false });
  });
});
