// fds above a lowered RLIMIT_NOFILE: the child closes every fd it was not given, not only those
// below the current limit (TESTPLAN D7; CPython issue21618, test_close_fds_when_max_fd_is_lowered).

import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { spawn } from '../dist/index.js';
import { collect, fixtures, helperBin, withTimeout } from './helpers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pidfd-nofile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Node marks the fds 0-15 it inherits close-on-exec, so the inheritable ones sit higher: the
// fixture inherits 40 of them at 30-69, then lowers its limit to 29.
const FIRST = 30;
const LAST = 69;
const LIMIT = 29;

/** Runs the fixture (optionally under seccomp rules) with the marker file at fds FIRST..LAST. */
async function loweredReport(rules) {
  const marker = join(dir, 'above-the-limit');
  writeFileSync(marker, '');
  const fd = openSync(marker, 'r');
  try {
    const stdio = ['ignore', 'pipe', 'pipe'];
    for (let target = FIRST; target <= LAST; target++) stdio[target] = fd;
    const command = [process.execPath, join(fixtures, 'lowered-nofile.mjs'), String(FIRST), String(LAST), String(LIMIT)];
    const [file, ...args] = rules ? [join(helperBin, 'seccomp-launcher'), ...rules, '--', ...command] : command;
    const { status, stdout, stderr } = await withTimeout(collect(spawn(file, args, { stdio })), 20000, 'the fixture');
    assert.equal(status.code, 0, stderr);
    return { marker, report: JSON.parse(stdout) };
  } finally {
    closeSync(fd);
  }
}

describe('D7: fds above a lowered RLIMIT_NOFILE', () => {
  const variants = [
    { title: 'with close_range', rules: null, closeRange: true },
    { title: 'with the /proc/self/fd scan (close_range refused)', rules: ['close_range=38'], closeRange: false },
  ];
  for (const { title, rules, closeRange } of variants) {
    test(`40 inheritable fds above the limit never reach the child (${title})`, async () => {
      const { marker, report: r } = await loweredReport(rules);
      // The premise: 40 inheritable fds on the marker, all above a limit that now applies.
      assert.equal(r.inherited.length, LAST - FIRST + 1);
      for (const { fd, target, flags } of r.inherited) {
        assert.equal(target, marker, `fd ${fd}`);
        assert.equal(flags, 0, `fd ${fd} is inheritable`);
      }
      assert.deepEqual(r.limit, [LIMIT, LIMIT]);
      assert.equal(r.closeRange, closeRange);

      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.listing.map((e) => e.fd),
        [0, 1, 2],
        `the child has only its stdio: ${JSON.stringify(r.listing)}`,
      );
      assert.ok(r.listing.every((e) => e.target !== marker));
    });
  }
});
