// The `pidfd` command itself (src/cli/main.ts): help, version, and the dispatch to commands.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { assertOneLine, pidfd } from '../helpers/cli.js';

describe('pidfd (no command)', () => {
  test('--help lists the commands; --version prints the version; no arguments is a usage error', () => {
    const help = pidfd('--help');
    assert.equal(help.code, 0);
    for (const name of ['run', 'wait', 'info', 'kill']) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
    assert.match(pidfd('--version').stdout, /^pidfd \d+\.\d+\.\d+\n$/);
    assert.equal(pidfd().code, 2);
  });

  test('an unknown command exits 2 with one line', () => {
    const r = pidfd('frobnicate');
    assert.equal(r.code, 2);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  for (const name of ['run', 'wait', 'info', 'kill']) {
    test(`pidfd ${name} --help shows its usage and its exit codes`, () => {
      const r = pidfd(name, '--help');
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, new RegExp(`^Usage: pidfd ${name} `));
      assert.match(r.stdout, /^Exit codes:/m);
    });
  }
});
