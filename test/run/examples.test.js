// The examples of README.md and docs/run.md run as written: every ```js and ```ts block of the two
// files is a module of its own (TypeScript stripped by typescript's transpileModule), run by a
// fresh Node process in a fresh 0700 temporary directory where `pidfd` (and `pidfd/ipc`, through
// package.json's exports) is this checkout, with the files and commands it needs. It must exit 0
// within its bound, with what it prints and returns as the page says, and leave nothing behind:
// the process's own zombies and fds are checked at its exit (helpers/invariants.js, as around
// every test file), and no process it started may outlive it.
//
// What a block needs is said on the lines right before its fence (helpers/markdown.js), next to
// its `<!-- types: ... -->` line, one `<!-- run: kind: value -->` comment per need:
//   run: skip: why              not run (a prompt, a fragment, something endless by design);
//                               the number of these is asserted below
//   run: uses: a, b             named fixtures: the shell scripts of `fixtures` below, or a
//                               block of the page marked `file:` (it is written under its name)
//   run: setup: <sh>            a shell command, run in the block's directory before it
//   run: before: <js>           code before the block (run-time values for what its `types:`
//                               line only declares)
//   run: check: <js>            code after the block, in its scope (its variables), with
//                               `assert` (node:assert/strict), `read(path)` (a file's text) and
//                               `values`: the value of each top-level expression statement of
//                               the block, in order (`result.stdout;  // 'a\nb'` is one)
// and, in the block itself, a comment `// → <js>` after a top-level expression statement: its
// value must deep-equal that expression (`(await $`echo a`).stdout;  // → 'a'`).
//   run: after: <js>            run here once the block's process has exited, with `assert`,
//                               `stdout`, `stderr` (what it printed) and `read(path)`
//   run: file: name             the block is not run: it is the file `name` of another block
//   run: pidfd engine: feature  a feature that the portable engine refuses (docs/run.md,
//                               Platforms): skipped there, with the reason of `portableRefuses`
//   run: timeout: ms            its own bound (default GUARD_MS)
// The directory of a block: `work/` is its cwd (and its files'), `bin/` is first in PATH (for
// commands that the machine cannot run here: no network, no server), `node_modules/pidfd` links
// to the checkout, HOME is the directory itself (a .gitconfig with a name and `main` as the
// first branch; npm's cache and logs).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import ts from 'typescript';

import { support } from '../../dist/index.js';
import { GUARD_MS, root } from '../helpers/index.js';
import { portable } from '../helpers/engine.js';
import { codeBlocks } from '../helpers/markdown.js';

const documents = ['README.md', join('docs', 'run.md')];

/** How many blocks of each page are not run (`run: skip`): a new skip is a decision, made here. */
const skipped = { 'README.md': 0, [join('docs', 'run.md')]: 0 };

/**
 * What the portable engine refuses, decided here: `<!-- run: pidfd engine: <feature> -->` skips a
 * block where `when` holds, saying why.
 */
const portableRefuses = {
  'several places': {
    when: portable,
    why: 'one output to several places at once: the portable engine refuses it (no tee thread; docs/run.md, Capturing output)',
  },
  "stderr 'stdout' captured": {
    when: portable,
    why: "`stderr: 'stdout'` with a captured stdout: the portable engine refuses it (docs/run.md, Platforms)",
  },
  'tree limits': {
    when: portable,
    why: '`tree: { memoryMax, ... }`: the portable engine refuses limits (docs/run.md, Platforms)',
  },
  pidfds: {
    when: !support().engines.spawn.available,
    why: 'spawn() and PidFd need pidfds: they throw ENOSYS where no pidfd backend works (README.md)',
  },
};

/**
 * The named fixtures of `run: uses:`: shell scripts run in the block's work/ directory (`../bin`
 * is first in its PATH). Commands are the machine's own (git, make, npm, sqlite3, sleep, tail);
 * a stand-in only where the real one needs what a test cannot have (the network).
 */
const fixtures = {
  // A repository with three commits by two authors, and a bare `origin` to push to.
  repo: `
    git init -q
    printf '# app\\n' > README.md
    mkdir -p src && printf 'export {};\\n' > src/index.ts
    git add README.md src/index.ts
    GIT_AUTHOR_NAME=Ada git commit -qm first
    printf 'more\\n' >> README.md && GIT_AUTHOR_NAME=Grace git commit -qam second
    printf 'again\\n' >> README.md && GIT_AUTHOR_NAME=Ada git commit -qam third
    git init -q --bare ../origin.git
    git remote add origin ../origin.git`,
  // make: \`all\` compiles (one line on stdout, a warning on stderr); \`test\` passes.
  makefile: `
    printf 'all:\\n\\t@echo cc -o app main.c\\n\\t@echo "main.c:3:7: warning: unused variable x" >&2\\ntest:\\n\\t@echo all tests passed\\n' > Makefile`,
  // An npm package with the scripts the examples call (its tests pass, one marked FAIL as a TODO).
  package: `
    cat > package.json <<'EOF'
    { "name": "app", "version": "1.0.0", "private": true,
      "scripts": { "build": "echo built", "task with space": "echo task", "test": "sh test.sh" } }
    EOF
    printf 'echo ok 1 parses\necho FAIL 2 streams TODO >&2\n' > test.sh`,
  // packages/app of a monorepo, with its lock file (no dependency: npm ci needs no network).
  monorepo: `
    mkdir -p packages/app/dist && touch packages/app/dist/app.js
    printf '{ "name": "app", "version": "1.0.0", "private": true, "scripts": { "build": "echo built" } }\\n' > packages/app/package.json
    printf '{ "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": { "": { "name": "app", "version": "1.0.0" } } }\\n' > packages/app/package-lock.json`,
  'app.log': `printf 'starting\\nready\\n' > app.log`,
  'logo.png': `printf '\\211PNG\\r\\n\\032\\n\\000\\000\\000\\rIHDR\\n' > logo.png`,
  // Programs that run until they are killed.
  'long-running': `
    printf '#!/bin/sh\\nexec sleep 3600\\n' > ../bin/server
    cp ../bin/server ../bin/long-job && chmod +x ../bin/server ../bin/long-job`,
  // No network in a test: curl answers here, saying what it was asked.
  'offline-curl': `
    printf '#!/bin/sh\\necho "<html>offline: $*</html>"\\n' > ../bin/curl && chmod +x ../bin/curl`,
  // docs/run.md's graceful cancel: a migration that rolls back and exits when canceled.
  'migrate.mjs': `
    cat > migrate.mjs <<'EOF'
    import { writeFileSync } from 'node:fs';
    import { getCancelSignal, sendMessage } from 'pidfd/ipc';
    const migrating = setInterval(() => {}, 1000);
    getCancelSignal().addEventListener('abort', () => {
      writeFileSync('rolled-back', 'yes');
      clearInterval(migrating);
    });
    await sendMessage('started');
    EOF`,
};

const kinds = new Set(['skip', 'uses', 'setup', 'before', 'check', 'after', 'file', 'pidfd engine', 'timeout']);

/** The blocks of every page: { doc, line, body, types, run: { kind: [values] } }. */
function examples() {
  const all = [];
  for (const doc of documents) {
    for (const block of codeBlocks(readFileSync(join(root, doc), 'utf8'))) {
      if (block.lang !== 'js' && block.lang !== 'ts') continue;
      const run = {};
      for (const { kind, value } of block.run) {
        if (!kinds.has(kind)) throw new Error(`${doc}:${block.line}: unknown run directive "${kind}"`);
        (run[kind] ??= []).push(value);
      }
      all.push({ ...block, doc, run });
    }
  }
  return all;
}

const blocks = examples();
/** The blocks marked `file:`, by name: files that other blocks use. */
const files = new Map(blocks.filter((b) => b.run.file).map((b) => [b.run.file[0], b.body]));

/** A shell command in `cwd`, with `env`; rejects with its output if it fails. */
async function sh(script, cwd, env) {
  const child = spawn('/bin/sh', ['-ec', script.replace(/^ {4}/gm, '')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const [code] = await new Promise((resolve) => child.on('close', (...a) => resolve(a)));
  if (code !== 0) throw new Error(`setup failed (exit ${code}): ${script}\n${output}`);
}

/** The processes whose environment holds `marker` (the block's own variable): [{ pid, comm,
 * waitFor }]. Zombies are not there (their environment is gone with their memory). `waitFor`: the
 * process is on its way out by design: the watchdog (which kills what a dead process left to it,
 * then exits), or a process with a SIGKILL pending. */
function marked(marker) {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(marker)) continue;
      const status = readFileSync(`/proc/${name}/status`, 'latin1');
      const comm = /^Name:\s*(.*)$/m.exec(status)[1];
      const pending = [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) >> 8n) & 1n);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').join(' ').trim();
      found.push({ pid: Number(name), comm, cmdline, waitFor: comm === 'pidfd-watchdog' || pending });
    } catch {}
  }
  return found;
}

/**
 * Resolves once no process that the block started is left; fails, killing them, as soon as one
 * is left that is not on its way out (a process is waited for only while it is: see marked()).
 */
async function nothingLeft(block, marker) {
  const deadline = Date.now() + GUARD_MS;
  for (;;) {
    const left = marked(marker);
    if (left.length === 0) return;
    if (left.every((p) => p.waitFor) && Date.now() < deadline) {
      await sleep(25);
      continue;
    }
    for (const { pid } of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    assert.fail(`${block.doc}:${block.line} left processes running: ${left.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`);
  }
}

/**
 * The block's code with the value of each of its top-level expression statements kept, in order,
 * in `__values` (`result.stdout;   // 'a\nb'` is there for a check to compare): the statements
 * run as written, once each.
 */
function keepValues(body) {
  const file = ts.createSourceFile('block.ts', body, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  let out = body;
  for (const statement of [...file.statements].reverse()) {
    if (!ts.isExpressionStatement(statement)) continue;
    const expression = statement.expression.getText(file);
    // `expr; // → value`: the value is a JS expression, and expr's value must deep-equal it.
    const rest = body.slice(statement.end, (body.indexOf('\n', statement.end) + 1 || body.length + 1) - 1);
    const said = /^\s*\/\/ → (.*)$/.exec(rest)?.[1];
    const expect = said === undefined ? '' : ` __assert.deepStrictEqual(__values.at(-1), (${said}));`;
    out = `${out.slice(0, statement.getStart(file))}__values.push((${expression}));${expect}${out.slice(statement.end)}`;
  }
  return out;
}

/** The module that runs a block: its context, its code, its checks. */
function moduleSource(block) {
  const checks = (block.run.check ?? []).map((c) => `{ const assert = __assert; const read = __read; const values = __values;\n${c}\n}`);
  const source = [
    "import __assert from 'node:assert/strict';",
    "import { readFileSync as __readFileSync } from 'node:fs';",
    "const __read = (path: string) => __readFileSync(path, 'utf8');",
    'const __values: unknown[] = [];',
    block.types ?? '',
    ...(block.run.before ?? []),
    keepValues(block.body),
    ...checks,
    'export {};',
  ].join('\n');
  const out = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    fileName: 'example.ts',
    reportDiagnostics: true,
  });
  const errors = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(errors, [], `${block.doc}:${block.line} does not parse`);
  return out.outputText;
}

/** Runs one block as described at the top; resolves with { stdout, stderr }. */
async function runExample(block) {
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'pidfd-example-')));
  const work = join(top, 'work');
  const bin = join(top, 'bin');
  const module = join(top, 'example.mjs');
  const marker = `PIDFD_EXAMPLE_MODULE=${module}`;
  try {
    mkdirSync(work);
    mkdirSync(bin);
    mkdirSync(join(top, 'node_modules'));
    symlinkSync(root, join(top, 'node_modules', 'pidfd'), 'dir');
    writeFileSync(join(top, '.gitconfig'), '[user]\n\tname = Example\n\temail = example@example.com\n[init]\n\tdefaultBranch = main\n');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && !['NODE_TEST_CONTEXT', 'PIDFD_VERBOSE', 'NODE_OPTIONS'].includes(k)),
    );
    Object.assign(env, {
      HOME: top,
      PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`,
      PIDFD_EXAMPLE_MODULE: module,
      GIT_CONFIG_NOSYSTEM: '1',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    });

    for (const name of (block.run.uses ?? []).flatMap((u) => u.split(',')).map((n) => n.trim())) {
      if (files.has(name)) writeFileSync(join(work, name), files.get(name));
      else if (name in fixtures) await sh(fixtures[name], work, env);
      else assert.fail(`${block.doc}:${block.line}: no fixture named "${name}"`);
    }
    for (const script of block.run.setup ?? []) await sh(script, work, env);
    writeFileSync(module, moduleSource(block));

    const bound = Number(block.run.timeout?.[0] ?? GUARD_MS);
    const invariants = pathToFileURL(join(root, 'test', 'helpers', 'invariants.js')).href;
    const child = spawn(process.execPath, ['--import', invariants, module], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // a group of its own, for the kill of a block that overruns
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    let overran = false;
    const timer = setTimeout(() => {
      overran = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, bound);
    const [code, signal] = await new Promise((resolve) => child.on('close', (...a) => resolve(a)));
    clearTimeout(timer);
    const said = `\n--- stdout:\n${stdout}\n--- stderr:\n${stderr}`;
    assert.ok(!overran, `${block.doc}:${block.line} still ran after ${bound} ms${said}`);
    assert.equal(code, 0, `${block.doc}:${block.line} exited with ${code ?? signal}${said}`);

    // Nothing that the block started outlives it (the watchdog goes once the block's process has).
    await nothingLeft(block, marker);

    const read = (path) => readFileSync(join(work, path), 'utf8');
    for (const code of block.run.after ?? []) new Function('assert', 'stdout', 'stderr', 'read', code)(assert, stdout, stderr, read);
    return { stdout, stderr };
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

for (const doc of documents) {
  const ofDoc = blocks.filter((b) => b.doc === doc);
  describe(`the examples of ${doc}`, { concurrency: 3 }, () => {
    test(`${skipped[doc]} blocks are marked not to run, as decided in this file`, () => {
      const skips = ofDoc.filter((b) => b.run.skip).map((b) => `${b.line}: ${b.run.skip[0]}`);
      assert.equal(skips.length, skipped[doc], `the blocks marked skip:\n${skips.join('\n')}`);
    });
    for (const block of ofDoc) {
      if (block.run.file) continue;
      const first = block.body.split('\n').find((l) => l.trim() !== '' && !l.startsWith('import ')) ?? '';
      const name = `${doc}:${block.line}: ${first.trim().slice(0, 70)}`;
      let skip = block.run.skip?.[0] ?? false;
      for (const feature of block.run['pidfd engine'] ?? []) {
        const refused = portableRefuses[feature];
        if (refused === undefined) throw new Error(`${doc}:${block.line}: no feature "${feature}" in portableRefuses`);
        if (refused.when) skip = `portable engine: ${refused.why}`;
      }
      test(name, { skip }, async () => {
        await runExample(block);
      });
    }
  });
}
