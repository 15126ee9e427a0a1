// Exit delivery (src/process/exit-watcher.ts): one batch of exit records from the addon, routed by pidfd
// to each child's handler. No user code reached from a handler can keep the other exits from
// being delivered (issue 8, item 6).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { fixtures } from '../helpers/index.js';

describe('exit delivery', () => {
  test("a listener that throws at a child's exit delays no exit: every child's status arrives, then the error surfaces as uncaught", () => {
    const out = execFileSync(process.execPath, [join(fixtures, 'throwing-listener.mjs')], { encoding: 'utf8', timeout: 30_000 });
    assert.deepEqual(JSON.parse(out), { evil: 'SIGKILL', plain: 'SIGKILL', third: 4, uncaught: 'boom from a listener' });
  });
});
