// The examples of README.md and docs/run.md type-check as written, under `tsc --strict`, against
// the package's published types: every ```js and ```ts block of the two files is a module of a
// consumer's project (helpers/typecheck.js), checked in one tsc run.
//
// What the extractor (helpers/markdown.js) understands, on the line right before a block's fence:
//   <!-- types: skip: why -->          the block is not checked (output, a fragment of prose)
//   <!-- types: <TypeScript> -->       the block is checked with these lines before it: the
//                                      imports and declarations that its surrounding text implies
// Blocks of other languages (sh, json, plain ```) are not code of this package and are skipped.
// `<!-- run: ... -->` lines beside it are for test/run/examples.test.js, which runs the blocks.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { pass, root } from '../helpers/index.js';
import { codeBlocks } from '../helpers/markdown.js';
import { typecheck } from '../helpers/typecheck.js';

const documents = ['README.md', join('docs', 'run.md')];

/** The checked blocks of a markdown file: [{ line, source }], source with its context first. */
function checkedBlocks(markdown) {
  return codeBlocks(markdown)
    .filter(({ lang, types }) => (lang === 'js' || lang === 'ts') && !types?.startsWith('skip'))
    .map(({ line, body, types }) => ({ line, source: `${types ?? ''}\n${body}\nexport {};\n` }));
}

/** The types of results that the examples rely on, exactly (not `any`, not a union). */
const precise = `
import { run, runSync, $, type RunProcess, type RunResult } from 'pidfd';

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Stdout<P> = P extends PromiseLike<infer R> ? (R extends RunResult<any> ? R['stdout'] : never) : never;
const check = <T extends true>(_: T) => {};

// A template piped after \`$\`: a string, as after run().
check<Same<Stdout<ReturnType<typeof piped>>, string>>(true);
function piped() { return $\`git log --format=%an\`.pipe\`sort -u\`; }
check<Same<Stdout<ReturnType<typeof chained>>, string>>(true);
function chained() { return $\`git log\`.pipe\`sort\`.pipe\`uniq -c\`; }
// It inherits the options of its \`$\` (but stdin's): Buffers here, lines there.
check<Same<Stdout<ReturnType<typeof buffers>>, Buffer>>(true);
function buffers() { return $({ encoding: 'buffer', input: 'x' })\`cat\`.pipe\`sort\`; }
check<Same<Stdout<ReturnType<typeof lines>>, string[]>>(true);
function lines() { return $({ lines: true })\`ls\`.pipe\`sort\`; }
// After run() or pipe(file), nothing is inherited: the options of run() are its own.
check<Same<Stdout<ReturnType<typeof fromRun>>, string>>(true);
function fromRun() { return run('cat', { encoding: 'buffer' }).pipe\`sort\`; }
check<Same<Stdout<ReturnType<typeof fromPipeFile>>, Buffer>>(true);
function fromPipeFile() { return $\`ls\`.pipe('cat', { encoding: 'buffer' }); }
check<Same<Stdout<ReturnType<typeof mixed>>, string>>(true);
function mixed() { return $({ encoding: 'buffer' })\`ls\`.pipe('cat').pipe\`sort\`; }
export const kept: RunProcess = run('true');
// runSync() and \`$.sync\` give the RunResult itself, typed by their options as run()'s.
check<Same<ReturnType<typeof syncPlain>, string>>(true);
function syncPlain() { return runSync('ls').stdout; }
check<Same<ReturnType<typeof syncLines>, string[]>>(true);
function syncLines() { return runSync('ls', { lines: true }).stdout; }
check<Same<ReturnType<typeof dollarSync>, string>>(true);
function dollarSync() { return $.sync\`ls\`.stdout; }
check<Same<ReturnType<typeof dollarSyncBuffer>, Buffer>>(true);
function dollarSyncBuffer() { return $({ encoding: 'buffer' }).sync\`ls\`.stdout; }
check<Same<ReturnType<typeof dollarSyncBound>, string[]>>(true);
function dollarSyncBound() { return $.sync({ lines: true })\`ls\`.stdout; }
// \`stderr: 'stdout'\` (2>&1): nothing captured as stderr.
check<Same<Awaited<ReturnType<typeof merged>>, undefined>>(true);
async function merged() { return (await run('ls', { stderr: 'stdout' })).stderr; }
`;

describe('the examples of README.md and docs/run.md', () => {
  test('every js/ts block type-checks under tsc --strict against the published types, and the types of run() and $ results are exact', { skip: pass !== 'default' && 'types do not depend on the backend' }, () => {
    const files = {};
    for (const doc of documents) {
      const blocks = checkedBlocks(readFileSync(join(root, doc), 'utf8'));
      assert.ok(blocks.length > 0, `${doc}: no block to check`);
      for (const { line, source } of blocks) files[`${doc.replace(/[/.]/g, '_')}_line${line}.ts`] = source;
    }
    files['precise.ts'] = precise;
    const { ok, diagnostics } = typecheck(files);
    assert.ok(ok, diagnostics);
  });
});
