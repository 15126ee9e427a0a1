// Type-checks TypeScript sources against this package's published types, as a consumer would:
// a temporary project with `node_modules/pidfd` linked to the package root, `moduleResolution:
// nodenext`, `strict`, and this checkout's @types/node and typescript. One tsc run per call.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { root } from './index.js';

const tsc = join(root, 'node_modules', '.bin', 'tsc');

/**
 * Writes `files` ({ 'name.ts': source }) into a fresh project and runs `tsc --noEmit` over them.
 * Returns { ok, diagnostics }: diagnostics is tsc's output, one line per error, with the
 * project's directory replaced by '.'.
 */
export function typecheck(files, compilerOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pidfd-types-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'pidfd'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        typeRoots: [join(root, 'node_modules', '@types')],
        types: ['node'],
        ...compilerOptions,
      },
      files: Object.keys(files),
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 1));
    for (const [name, source] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), source);
    }
    const r = spawnSync(tsc, ['-p', dir, '--pretty', 'false'], { encoding: 'utf8', timeout: 300_000 });
    if (r.error) throw r.error;
    const diagnostics = `${r.stdout}${r.stderr}`.split(dir).join('.').trim();
    return { ok: r.status === 0, diagnostics };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
