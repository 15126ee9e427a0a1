// pidfd/register: with `node --import pidfd/register`, every way of reaching the built-in
// child_process (ESM named and default imports, require) spawns through pidfd; unregister() puts
// Node's back, isRegistered() tells which is in place, and register() puts pidfd's back again.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { fixtures, root } from '../helpers/index.js';

const app = join(fixtures, 'compat', 'register-app.mjs');

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const registeredReport = {
  registered: true,
  named: 'pidfd',
  default: 'pidfd',
  required: 'pidfd',
  sync: 'ok',
  unregistered: true,
  afterUnregister: { registered: false, named: 'node', required: 'node' },
  unregisterAgain: false,
  afterRegister: { registered: true, named: 'pidfd' },
};

describe('pidfd/register', () => {
  test('node --import pidfd/register: named imports, the default import and require() all use pidfd; unregister() and register() switch', () => {
    assert.deepEqual(run(['--import', 'pidfd/register', app]), registeredReport);
  });

  test('importing pidfd/register first in the program does the same', () => {
    // The app imports pidfd/register itself (to reach isRegistered): without --import, that
    // import registers, before the first spawn.
    assert.deepEqual(run([app]), registeredReport);
  });

  test('require("pidfd/register") from CommonJS registers too', () => {
    const script = `require('pidfd/register');
const cp = require('child_process');
const child = cp.spawn('/bin/true', [], { stdio: 'ignore' });
process.stdout.write(JSON.stringify({ handle: child._handle.constructor.name, registered: require('pidfd/register').isRegistered() }));`;
    assert.deepEqual(run(['-e', script]), { handle: 'ProcessHandle', registered: true });
  });

  test('a function copied out of child_process before registering stays Node\'s (nothing can reach that copy)', () => {
    const script = `const { spawn } = require('child_process');
require('pidfd/register');
const child = spawn('/bin/true', [], { stdio: 'ignore' });
process.stdout.write(JSON.stringify({ handle: child._handle.constructor.name }));`;
    assert.deepEqual(run(['-e', script]), { handle: 'Process' });
  });

  test('registering loads neither the implementation nor the addon: the first call does, and then behaves as pidfd/child_process', () => {
    // Every Node process started with NODE_OPTIONS='--import pidfd/register' pays for what the
    // registration loads, so it loads only small forwarding functions (bench: register-startup).
    // The implementation's mark: its normalize.ts imports node:worker_threads, which neither Node's
    // start nor the registration loads; the addon's, its mapping.
    const script = `const { readFileSync } = require('fs');
const { promisify } = require('util');
const loaded = () => [process.moduleLoadList.includes('NativeModule worker_threads'), readFileSync('/proc/self/maps', 'utf8').includes('pidfd.node')];
const cp = require('child_process');
const before = loaded();
const shapes = ['ChildProcess', 'exec', 'execFile', 'execFileSync', 'execSync', 'fork', 'spawn', 'spawnSync'].map((n) => [cp[n].name, cp[n].length]);
const out = String(cp.execFileSync('/bin/echo', ['hi'])).trim();
const after = loaded();
const made = new cp.ChildProcess();
class Sub extends cp.ChildProcess {}
const sub = new Sub();
promisify(cp.execFile)('/bin/echo', ['promised']).then(({ stdout }) => {
  const pidfd = require('pidfd/child_process');
  process.stdout.write(JSON.stringify({
    before, out, after, shapes, stdout,
    same: cp.spawn === pidfd.spawn && cp.ChildProcess === pidfd.ChildProcess && cp.exec === pidfd.default.exec,
    made: [made instanceof cp.ChildProcess, made._handle.constructor.name, typeof made.kill],
    sub: [sub instanceof Sub, sub instanceof cp.ChildProcess, sub._handle.constructor.name],
  }));
});`;
    assert.deepEqual(run(['--import', 'pidfd/register', '-e', script]), {
      before: [false, false],
      out: 'hi',
      after: [true, true],
      shapes: [['ChildProcess', 0], ['exec', 3], ['execFile', 4], ['execFileSync', 3], ['execSync', 2], ['fork', 1], ['spawn', 3], ['spawnSync', 3]],
      stdout: 'promised\n',
      same: true,
      made: [true, 'ProcessHandle', 'function'],
      sub: [true, true, 'ProcessHandle'],
    });
  });

  test('pidfd/child_process imported before pidfd/register: the same functions, registered', () => {
    const script = `const pidfd = await import('pidfd/child_process');
const { isRegistered } = await import('pidfd/register');
const cp = await import('node:child_process');
const child = cp.spawn('/bin/true', [], { stdio: 'ignore' });
process.stdout.write(JSON.stringify({ registered: isRegistered(), same: cp.spawn === pidfd.spawn && cp.default.execFile === pidfd.execFile, handle: child._handle.constructor.name }));`;
    assert.deepEqual(run(['--input-type=module', '-e', script]), { registered: true, same: true, handle: 'ProcessHandle' });
  });
});
