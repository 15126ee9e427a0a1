// spawn() options: the defects of issue 8 items 6-9 (a look-alike AbortSignal, a replaced
// process.env, a sparse stdio array, env given as a Map).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import { collect, readAll, root, thrownNotStarted } from '../helpers/index.js';

describe('spawn(): signal', () => {
  test('an object that only looks like an AbortSignal is refused with ERR_INVALID_ARG_TYPE before anything starts', () => {
    for (const fake of [{ aborted: false, addEventListener() {} }, { aborted: false, addEventListener() {}, removeEventListener() {} }, Object.create(AbortSignal.prototype)]) {
      const error = thrownNotStarted(() => spawn('true', [], { signal: fake }));
      assert.ok(error instanceof TypeError, String(error));
      assert.equal(error.code, 'ERR_INVALID_ARG_TYPE');
      assert.match(error.message, /`signal` option must be an AbortSignal/);
    }
  });

  test('a real AbortSignal, also from AbortSignal.timeout() or any(), is accepted', async () => {
    for (const signal of [new AbortController().signal, AbortSignal.timeout(60_000), AbortSignal.any([new AbortController().signal])]) {
      const { status } = await collect(spawn('/bin/sh', ['-c', 'exit 0'], { stdio: 'ignore', signal }));
      assert.equal(status.code, 0);
    }
  });
});

describe('spawn(): env', () => {
  const script = (setup) => `
    import { spawn } from ${JSON.stringify(`${root}/dist/index.js`)};
    ${setup}
    const sub = spawn('/bin/sh', ['-c', 'printf "%s|%s" "$ADDED" "$PATH"'], { stdio: ['ignore', 'inherit', 'inherit'] });
    await sub.exited;`;

  test('a process.env that was replaced as a whole is the one the child gets', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script("process.env = { ...process.env, ADDED: 'yes' };")], {
      encoding: 'utf8',
    });
    assert.equal(out, `yes|${process.env.PATH}`);
  });

  test('a process.env replaced before the library was imported is honoured too', () => {
    const early = `
      process.env = { ...process.env, ADDED: 'early' };
      const { spawn } = await import(${JSON.stringify(`${root}/dist/index.js`)});
      const sub = spawn('/bin/sh', ['-c', 'printf "%s|%s" "$ADDED" "$PATH"'], { stdio: ['ignore', 'inherit', 'inherit'] });
      await sub.exited;`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', early], { encoding: 'utf8' });
    assert.equal(out, `early|${process.env.PATH}`);
  });

  test('assignments to the real process.env reach the child (the fast path)', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script("process.env.ADDED = 'assigned';")], { encoding: 'utf8' });
    assert.equal(out, `assigned|${process.env.PATH}`);
  });

  test('env given as a Map (or any iterable) is refused, not taken as an empty environment', () => {
    for (const env of [new Map([['A', '1']]), new Set(), ['A=1']]) {
      const error = thrownNotStarted(() => spawn('true', [], { env }));
      assert.equal(error.code, 'ERR_INVALID_ARG_TYPE', error.message);
      assert.match(error.message, /`env` option/);
    }
  });
});

describe('spawn(): stdio arrays', () => {
  test('a sparse stdio array with a huge length is bounded by its entries: fds 0-2 and the ones given', async () => {
    const stdio = ['ignore', 'pipe', 'ignore'];
    stdio[5] = 'pipe';
    stdio.length = 2 ** 32 - 1;
    const sub = spawn('/bin/sh', ['-c', 'echo five >&5; ls /proc/self/fd'], { stdio });
    assert.equal(sub.stdio.length, 6);
    const [five, { status, stdout }] = await Promise.all([readAll(sub.stdio[5]), collect(sub)]);
    assert.equal(status.code, 0);
    assert.equal(five, 'five\n');
    assert.deepEqual(stdout.trim().split('\n').map(Number).filter((fd) => fd !== 3).sort(), [0, 1, 2, 5]);
  });
});

describe('spawn(): backend', () => {
  test('each backend can be chosen for one spawn, whatever the process uses, and the fork backend gives the child its own maxRSS', async () => {
    const seen = {};
    for (const backend of ['clone3', 'clone', 'fork']) {
      let sub;
      try {
        sub = spawn('/bin/sh', ['-c', 'exit 7'], { stdio: 'ignore', backend });
      } catch (error) {
        // Under the suite's clone3-refusing seccomp pass, clone3 is refused for real.
        assert.equal(backend, 'clone3', String(error));
        assert.equal(error.code, 'ENOSYS');
        continue;
      }
      const status = await sub.exited;
      assert.equal(status.code, 7, backend);
      seen[backend] = status.rusage.maxRSS;
    }
    // With CLONE_VM the kernel counts this Node process's peak (tens of MiB); a copy, the shell's.
    assert.ok(seen.fork < seen.clone, `fork ${seen.fork} KiB, clone ${seen.clone} KiB`);
  });

  test('an unknown backend is ERR_INVALID_ARG_VALUE naming the choices', () => {
    const error = thrownNotStarted(() => spawn('true', [], { backend: 'vfork' }));
    assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(error.message, /'clone3', 'clone', 'fork'/);
  });
});
