// Credentials in the child: an unprivileged parent that asks for ids it may not take gets EPERM
// from the step that refused, and nothing is left behind (TESTPLAN F6).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn } from '../dist/index.js';
import { collect, fixtures, root, withTimeout } from './helpers/index.js';

const NOBODY = 65534;
const fixture = join(fixtures, 'credentials.mjs');

/** Runs the credentials fixture as an unprivileged user; returns its report, or a reason to skip. */
async function unprivilegedReport() {
  const asRoot = process.getuid() === 0;
  const ids = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  if (asRoot) {
    // The fixture, the library and the addon must be readable by nobody.
    const files = [fixture, join(root, 'dist', 'index.js'), join(root, 'build', 'Release', 'pidfd.node')];
    const check = await collect(
      spawn('/bin/sh', ['-c', 'for f; do test -r "$f" || { echo "$f"; exit 1; }; done', 'sh', ...files], {
        ...ids,
        cwd: root,
      }),
    );
    if (check.status.code !== 0) return { skip: `uid ${NOBODY} cannot read ${check.stdout.trim()}` };
  }
  const sub = spawn(process.execPath, [fixture], { ...ids, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const { status, stdout, stderr } = await withTimeout(collect(sub), 20000, 'the fixture');
  assert.equal(status.code, 0, stderr);
  return { report: JSON.parse(stdout) };
}

describe('F6: ids an unprivileged parent may not take', () => {
  let result;
  const report = async (t) => {
    result ??= await unprivilegedReport();
    if (result.skip) t.skip(result.skip);
    return result.report;
  };
  // In the order of the fixture's requests.
  const cases = [
    { title: 'uid 0', syscall: 'setuid' },
    { title: 'gid 0', syscall: 'setgid' },
    { title: 'uid 0 and gid 0', syscall: 'setgid' }, // the group is changed first
    { title: 'groups [0]', syscall: 'setgroups' },
    { title: 'its own uid and gid, with groups [0]', syscall: 'setgroups' },
  ];
  cases.forEach(({ title, syscall }, i) => {
    test(`${title}: SpawnError EPERM from ${syscall}; no fd, child or zombie left`, async (t) => {
      const r = await report(t);
      if (r === undefined) return;
      const { error, fdsLeft, hasChildren, zombies } = r.denied[i];
      assert.notEqual(r.uid, 0, 'the fixture ran unprivileged');
      assert.equal(error.name, 'SpawnError', JSON.stringify(error));
      assert.equal(error.code, 'EPERM');
      assert.equal(error.errno, -1);
      assert.equal(error.syscall, syscall);
      assert.match(error.message, new RegExp(`EPERM: operation not permitted, ${syscall}`));
      assert.equal(fdsLeft, '');
      assert.equal(hasChildren, false);
      assert.deepEqual(zombies, []);
    });
  });

  test('its own uid and gid are allowed; the supplementary groups it cannot drop are no error', async (t) => {
    const r = await report(t);
    if (r === undefined) return;
    assert.equal(r.own.code, 0, r.own.stderr);
    const [uid, gid, groups] = r.own.stdout.trim().split('\n');
    assert.deepEqual([Number(uid), Number(gid)], [r.uid, r.gid]);
    // The groups it had, kept (only a privileged parent can drop them).
    const expected = new Set([r.gid, ...r.groups].map(String));
    assert.deepEqual(new Set(groups.split(' ')), expected);
  });
});
