// `pidfd info` (src/cli/info.ts): what the kernel tells of a process.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { support } from '../../dist/index.js';
import { assertOneLine, pidfd, sleeper } from '../helpers/cli.js';
import { neverAPid } from '../helpers/index.js';

describe('pidfd info', () => {
  test('shows parent, ids, cgroup, stable id and command line; --json has the same', async (t) => {
    const s = await sleeper(t);
    const text = pidfd('info', String(s.pid));
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`^pid ${s.pid}$`, 'm'));
    assert.match(text.stdout, new RegExp(`^  ppid\\s+${process.pid}$`, 'm'));
    assert.match(text.stdout, /^  command\s+sleep 600$/m);
    const [json] = JSON.parse(pidfd('info', '--json', String(s.pid)).stdout);
    assert.equal(json.pid, s.pid);
    assert.equal(json.ppid, process.pid);
    assert.deepEqual(json.cmdline, ['sleep', '600']);
    assert.equal(json.uids.real, process.getuid());
    assert.equal(json.alive, true);
    if (support().features.pidfs.available) assert.match(json.id, /^\d+$/);
  });

  test('a pid that does not exist exits 1 with one line, and the others are still shown', () => {
    const r = pidfd('info', '--json', '1', String(neverAPid()));
    assert.equal(r.code, 1);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /no such process/);
    assert.equal(JSON.parse(r.stdout)[0].pid, 1);
  });
});
