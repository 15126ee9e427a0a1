// `pidfd run --report` (src/cli/report.ts): the exit status and resources of the command.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { pidfd } from '../helpers/cli.js';

describe('pidfd run --report', () => {
  test('--report prints a table of the status and resources to stderr', () => {
    const r = pidfd('run', '--report', '--', '/bin/sh', '-c', 'exit 5');
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^\tExit status:\s+5$/m);
    assert.match(r.stderr, /^\tUser time \(s\):\s+\d+\.\d{3}$/m);
    assert.match(r.stderr, /^\tMaximum resident set size \(KiB\):\s+\d+/m);
    assert.match(r.stderr, /^\tMinor page faults:\s+\d+$/m);
  });

  test('--report=json prints one JSON line with the rusage', () => {
    const r = pidfd('run', '--report=json', '--', '/bin/sh', '-c', 'exit 6');
    assert.equal(r.code, 6);
    const report = JSON.parse(r.stderr);
    assert.deepEqual(report.command, ['/bin/sh', '-c', 'exit 6']);
    assert.equal(report.code, 6);
    assert.equal(report.signal, null);
    assert.equal(report.timedOut, false);
    assert.ok(report.elapsedMs > 0);
    assert.ok(report.rusage.maxRSS > 0);
    // Without a cgroup, the report spawns with the fork backend: the peak RSS is the child's own,
    // not the launcher's (a Node process is tens of MiB; sh is a few). Not under npm run
    // test:asan, which preloads the sanitizer runtime into sh too (tens of MiB of its own).
    const sanitized = process.env.PIDFD_TEST_ADDON !== undefined;
    if (process.env.PIDFD_BACKEND === undefined && !sanitized) assert.ok(report.rusage.maxRSS < 20000, `maxRSS ${report.rusage.maxRSS}`);
  });
});
