// The TypeScript types of run() and $: a result's stdout is a string, lines, a Buffer or
// undefined as the options say (test/run/fixtures/types.ts is compiled with the project's tsc).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

import { pass, root } from '../helpers/index.js';
import { runFixtures } from './helpers.js';

test('the result types follow the options (encoding, lines, stdout, all, $ bindings, pipe)', { skip: pass !== 'default' && 'types do not depend on the backend' }, () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), join(runFixtures, 'types.ts')],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
