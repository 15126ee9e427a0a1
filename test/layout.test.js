// The source's layout rules (docs/internals.md, "Layers"), checked on the source itself:
// - product code never imports src/internal/ (the test hooks): whatever the library needs at
//   run time lives outside it, so that the hooks can never be loaded by a user's program;
// - a signal's number is named in one place (src/signals.ts): no other file defines SIGKILL,
//   SIGTERM, ... as a number of its own.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const internal = join(src, 'internal');

/** Every .ts file under dir. */
function sources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The module specifiers a source file names: static imports and re-exports, import(), import type. */
function specifiers(text) {
  const found = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

describe('source layout', () => {
  const files = sources(src);

  test('the walk finds the library (a check over nothing would pass)', () => {
    assert.ok(files.some((f) => f.endsWith(join('process', 'start.ts'))));
    assert.ok(files.some((f) => f.startsWith(internal)));
  });

  test('product code never imports src/internal/ (the test hooks)', () => {
    const offenders = [];
    for (const file of files) {
      if (file.startsWith(internal + '/')) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        if (target === internal || target.startsWith(internal + '/')) offenders.push(`${relative(root, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  test('signal numbers are defined only in src/signals.ts', () => {
    const offenders = [];
    for (const file of files) {
      if (file === join(src, 'signals.ts')) continue;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\bconst\s+(SIG[A-Z0-9]+)\s*=\s*([^;\n]+)/g)) {
        offenders.push(`${relative(root, file)}: const ${match[1]} = ${match[2]}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});
