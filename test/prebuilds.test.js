// The prebuilt binaries (`npm run prebuilds`, scripts/prebuild.sh): every target's addon and
// watchdog are there, built for the target's architecture and libc, and the glibc builds need
// nothing newer than GLIBC_2.28 (Node 20's own floor), read from the files' ELF headers by
// scripts/check-prebuilds.mjs. Without prebuilds/ (a checkout that has not run the release step)
// the prebuild case is skipped, saying so; .ci/run builds them first, so there it runs.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { checkPrebuilds, compareVersions, fileProblems, GLIBC_FLOOR, glibcFloor, inspectElf, TARGETS } from '../scripts/check-prebuilds.mjs';
import { root } from './helpers/index.js';

describe('the prebuilds', () => {
  test('all four targets, each with its watchdog, for the right architecture and libc, glibc floor 2.28', (t) => {
    if (!existsSync(join(root, 'prebuilds'))) {
      t.skip('no prebuilds/ in this checkout: `npm run prebuilds` makes them');
      return;
    }
    const [lines, ok] = checkPrebuilds(root, TARGETS);
    assert.ok(ok, lines.join('\n'));
  });

  test('the check reads what a file needs: this checkout\'s own build, against the floor', () => {
    const addon = join(root, 'build', 'Release', 'pidfd.node');
    const info = inspectElf(addon);
    assert.equal(info.machine, { x64: 62, arm64: 183 }[process.arch]);
    assert.ok(info.needed.includes('libc.so.6'), info.needed.join(' '));
    const floor = glibcFloor(info);
    const running = process.report.getReport().header.glibcVersionRuntime;
    assert.ok(floor !== null && compareVersions(floor, running) <= 0, `needs ${floor}, runs on ${running}`);
    const problems = fileProblems(`linux-${process.arch}-glibc`, addon, false);
    // The machine's compiler links against the machine's glibc: above the floor, the check says so.
    if (compareVersions(floor, GLIBC_FLOOR) > 0) assert.deepEqual(problems, [`needs GLIBC_${floor}, newer than the floor GLIBC_2.28`]);
    else assert.deepEqual(problems, []);
    const watchdog = inspectElf(join(root, 'build', 'Release', 'pidfd-watchdog'));
    assert.match(watchdog.interp ?? '', /^\/lib(64)?\/ld-linux-/);
    assert.deepEqual(fileProblems(`linux-${process.arch}-musl`, addon, false).length > 0, true, 'a glibc build is not a musl one');
    assert.match(fileProblems(`linux-${process.arch === 'x64' ? 'arm64' : 'x64'}-glibc`, addon, false)[0], /^machine /);
  });
});
