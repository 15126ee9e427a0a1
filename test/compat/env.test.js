// The child's environment: process.env as it is at the spawn (read by the engine from the C
// environment, without a copy per spawn), an `env` option exactly, and for fork() the IPC
// channel's variables added to either.

import assert from 'node:assert/strict';
import * as node from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';

import * as compat from '../../dist/compat/child_process.js';

const printEnv = ['/bin/sh', ['-c', 'echo "${PIDFD_COMPAT_A-unset} ${PIDFD_COMPAT_B-unset} ${NODE_CHANNEL_FD-none}"']];

async function asyncOutput(cp, options) {
  const child = cp.spawn(...printEnv, options);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  await once(child, 'close');
  return out.trim();
}

describe('environment', () => {
  test('process.env as it is at the spawn: a variable set and one deleted since the module was loaded', async () => {
    process.env.PIDFD_COMPAT_A = 'set now';
    process.env.PIDFD_COMPAT_B = 'deleted';
    delete process.env.PIDFD_COMPAT_B;
    try {
      for (const cp of [compat, node]) {
        assert.equal(await asyncOutput(cp), 'set now unset none');
        assert.equal(String(cp.spawnSync(...printEnv).stdout).trim(), 'set now unset none');
      }
    } finally {
      delete process.env.PIDFD_COMPAT_A;
    }
  });

  test('the env option is the whole environment (with inherited keys, as in Node)', async () => {
    const env = Object.create({ PIDFD_COMPAT_B: 'from the prototype' });
    env.PIDFD_COMPAT_A = 'own';
    assert.equal(await asyncOutput(compat, { env }), 'own from the prototype none');
    assert.equal(String(compat.spawnSync(...printEnv, { env }).stdout).trim(), 'own from the prototype none');
  });

  test('an IPC channel adds NODE_CHANNEL_FD to the inherited environment, which stays whole', async () => {
    process.env.PIDFD_COMPAT_A = 'inherited';
    try {
      const child = compat.spawn(...printEnv, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      await once(child, 'close');
      assert.equal(out.trim(), 'inherited unset 3');
    } finally {
      delete process.env.PIDFD_COMPAT_A;
    }
  });
});
