// spawn(file, args?, options?): the options are honoured in every shape of call the types
// accept, and the shapes they refuse throw (issue 8, item 3).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import { collect, thrownNotStarted } from '../helpers/index.js';

const root = process.getuid() === 0;

async function stdoutOf(sub) {
  const { status, stdout, stderr } = await collect(sub);
  assert.equal(status.code, 0, stderr);
  return stdout;
}

describe('spawn(): the shapes of a call', () => {
  test('spawn(file, undefined, options) honours every option: uid and gid', async (t) => {
    if (!root) return t.skip('needs root to change uid and gid');
    const out = await stdoutOf(spawn('id', undefined, { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.match(out, /^uid=65534\b.* gid=65534\b/);
  });

  test('spawn(file, undefined, options) and spawn(file, options) honour cwd and env', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-shapes-'));
    t.after(() => rmSync(dir, { recursive: true }));
    const options = { cwd: dir, env: { SHAPE: 'yes', PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] };
    for (const sub of [
      spawn('/bin/sh', undefined, { ...options, argv0: 'sh' }),
      spawn('/bin/sh', { ...options, argv0: 'sh' }),
    ]) {
      // With no arguments, sh reads its commands from stdin: there is none, so it just exits.
      assert.equal(await stdoutOf(sub), '');
    }
    assert.equal(await stdoutOf(spawn('pwd', undefined, options)), `${dir}\n`);
    assert.equal(await stdoutOf(spawn('pwd', options)), `${dir}\n`);
    assert.equal(await stdoutOf(spawn('/bin/sh', ['-c', 'echo $SHAPE'], options)), 'yes\n');
  });

  const refused = [
    ['null args', () => spawn('true', null, {}), TypeError, 'ERR_INVALID_ARG_TYPE', '`args`'],
    ['a string as args', () => spawn('true', '-v'), TypeError, 'ERR_INVALID_ARG_TYPE', '`args`'],
    ['null options', () => spawn('true', [], null), TypeError, 'ERR_INVALID_ARG_TYPE', '`options`'],
    ['null options after undefined args', () => spawn('true', undefined, null), TypeError, 'ERR_INVALID_ARG_TYPE', '`options`'],
    ['two options objects', () => spawn('true', { stdio: 'ignore' }, { uid: 0 }), TypeError, 'ERR_INVALID_ARG_VALUE', '`options`'],
    ['options that are an array', () => spawn('true', [], ['x']), TypeError, 'ERR_INVALID_ARG_TYPE', '`options`'],
  ];
  for (const [what, call, type, code, named] of refused) {
    test(`${what} throws ${code} naming ${named}, and starts nothing`, () => {
      const error = thrownNotStarted(call);
      assert.ok(error instanceof type, String(error));
      assert.equal(error.code, code);
      assert.ok(error.message.includes(named), error.message);
    });
  }
});
