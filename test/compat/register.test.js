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
});
