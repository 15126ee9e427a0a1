// `$` as a function, parseCommandString(), .nothrow(), text()/json()/lines(), within(), and the
// `verbose`/`quiet` log: what execa and zx users write every day.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { $, parseCommandString, run, RunError, within } from '../../dist/index.js';
import { quoteForShell } from '../../dist/run/command.js';
import { pidfdOnly } from '../helpers/engine.js';
import { childPids, root, thrown } from '../helpers/index.js';
import { leakFree, runFixtures } from './helpers.js';

describe('$(file, args?, options?)', () => {
  test('runs a file with its arguments as run() does: each argument as it is, no splitting', leakFree(async () => {
    const result = await $('printf', ['%s|', 'a b', "it's", '']);
    assert.equal(result.stdout, "a b|it's||");
    assert.equal(result.command, "printf %s| a b it's ");
    assert.equal((await $('pwd')).stdout, process.cwd(), '(file) alone');
    assert.equal((await $('pwd', { cwd: '/' })).stdout, '/', '(file, options)');
    assert.equal((await $('pwd', undefined, { cwd: '/' })).stdout, '/', '(file, undefined, options)');
  }));

  test("uses the options bound to its `$`, under the call's own", leakFree(async () => {
    const inRoot = $({ cwd: '/', lines: true });
    assert.deepEqual((await inRoot('pwd')).stdout, ['/'], 'the bound options apply');
    assert.deepEqual((await inRoot('pwd', [], { cwd: '/tmp' })).stdout, ['/tmp'], "the call's own win");
    assert.equal((await inRoot('pwd', { lines: false })).stdout, '/');
  }));

  test('a template piped after it inherits the options of its `$`', leakFree(async () => {
    const bytes = $({ encoding: 'buffer' });
    const result = await bytes('printf', ['b\\na\\n']).pipe`sort`;
    assert.ok(Buffer.isBuffer(result.stdout));
    assert.equal(result.stdout.toString(), 'a\nb\n');
  }));

  test('refuses a first argument that is not a template, a file or options, before anything starts', () => {
    const before = childPids();
    for (const bad of [42, null, undefined, true]) {
      const error = thrown(() => $(bad));
      assert.ok(error instanceof TypeError, String(bad));
      assert.equal(error.code, 'ERR_INVALID_ARG_TYPE');
    }
    assert.equal(thrown(() => $('ls', 'not-an-array')).code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(thrown(() => $('ls', {}, {})).code, 'ERR_INVALID_ARG_VALUE', 'options after options');
    assert.deepEqual(childPids(), before);
  });
});

describe('parseCommandString()', () => {
  const cases = [
    ['splits on spaces, any number of them', 'npm  run   build', ['npm', 'run', 'build']],
    ['and on tabs and line breaks (as the `$` template does)', 'a\tb\nc\r\nd', ['a', 'b', 'c', 'd']],
    ['leading and trailing whitespace is nothing', '  ls -l  ', ['ls', '-l']],
    ['a backslash before a space keeps it in the argument', 'npm run task\\ with\\ space', ['npm', 'run', 'task with space']],
    ['escaped spaces are kept one by one', 'touch a\\ \\ b', ['touch', 'a  b']],
    ['an escaped space then plain spaces: the argument ends there (execa would glue `b` to it)', 'echo a\\   b', ['echo', 'a ', 'b']],
    ['an escaped tab is kept too', 'echo a\\\tb', ['echo', 'a\tb']],
    ['other backslashes are plain characters', 'printf a\\nb c:\\\\x', ['printf', 'a\\nb', 'c:\\\\x']],
    ['a final backslash is a plain character', 'echo a\\', ['echo', 'a\\']],
    ['quotes mean nothing: no shell parses the string', `git commit -m "two words"`, ['git', 'commit', '-m', '"two', 'words"']],
    ['an empty string is no command', '', []],
    ['whitespace only is no command', ' \t ', []],
  ];
  for (const [title, input, expected] of cases) {
    test(title, () => assert.deepEqual(parseCommandString(input), expected));
  }

  test('refuses what is not a string', () => {
    for (const bad of [undefined, null, ['ls'], 1]) {
      const error = thrown(() => parseCommandString(bad));
      assert.ok(error instanceof TypeError);
      assert.equal(error.code, 'ERR_INVALID_ARG_TYPE');
    }
  });

  test('its result runs, as a template value or as file and args', leakFree(async () => {
    const argv = parseCommandString('printf %s|%s a\\ b c');
    assert.equal((await $`${argv}`).stdout, 'a b|c');
    const [file, ...args] = argv;
    assert.equal((await $(file, args)).stdout, 'a b|c');
  }));
});

describe('.nothrow()', () => {
  test('a failure resolves with its RunError instead of rejecting', leakFree(async () => {
    const result = await $`sh -c ${'echo why >&2; exit 3'}`.nothrow();
    assert.ok(result instanceof RunError);
    assert.equal(result.failed, true);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stderr, 'why');
    await assert.rejects($`sh -c ${'exit 3'}`, (error) => error instanceof RunError && error.exitCode === 3, 'without it, the run rejects');
  }));

  test('returns the same RunProcess, for a run() or a pipeline; a success is unchanged', leakFree(async () => {
    const p = run('false');
    assert.equal(p.nothrow(), p);
    assert.equal((await p).exitCode, 1);
    const ok = await run('echo', ['x']).nothrow();
    assert.equal(ok.failed, false);
    assert.equal(ok.stdout, 'x');
    const piped = await run('echo', ['x']).pipe('sh', ['-c', 'cat; exit 4']).nothrow();
    assert.equal(piped.exitCode, 4);
  }));

  test('an iteration does not throw at its end either', leakFree(async () => {
    const lines = [];
    for await (const line of $`sh -c ${'echo a; exit 2'}`.nothrow()) lines.push(line);
    assert.deepEqual(lines, ['a']);
  }));

  test("zx's `nothrow` option says what to use", () => {
    const error = thrown(() => $({ nothrow: true })`true`);
    assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(error.message, /reject: false.*nothrow\(\)/);
  });
});

describe('text(), json() and lines()', () => {
  test('on a result: stdout as text, parsed, or as lines', leakFree(async () => {
    const result = await $`printf ${'{"a": [1, 2]}\n'}`;
    assert.equal(result.text(), '{"a": [1, 2]}');
    assert.deepEqual(result.json(), { a: [1, 2] });
    assert.deepEqual(result.lines(), ['{"a": [1, 2]}']);
    const crlf = await $({ stripFinalNewline: false })`printf ${'a\r\nb\n\nc\n'}`;
    assert.deepEqual(crlf.lines(), ['a', 'b', '', 'c'], 'line endings go, the empty line after the last does not count');
    assert.deepEqual((await $`true`).lines(), [], 'no output, no lines');
  }));

  test('whatever form stdout was captured in: lines, a Buffer', leakFree(async () => {
    const lines = await $({ lines: true })`printf ${'x\ny'}`;
    assert.equal(lines.text(), 'x\ny');
    assert.deepEqual(lines.lines(), ['x', 'y']);
    lines.lines().push('z');
    assert.deepEqual(lines.stdout, ['x', 'y'], 'lines() is a copy');
    const bytes = await $({ encoding: 'buffer' })`printf ${'[1]'}`;
    assert.deepEqual(bytes.json(), [1]);
  }));

  test('on the RunProcess: awaited, as zx\'s ProcessPromise has them', leakFree(async () => {
    assert.equal(await $`echo hi`.text(), 'hi');
    assert.deepEqual(await run('printf', ['[true]']).json(), [true]);
    assert.deepEqual(await $`printf ${'a\nb\n'}`.lines(), ['a', 'b']);
    await assert.rejects($`sh -c ${'echo x; exit 1'}`.text(), RunError, 'a failure rejects');
    assert.equal(await $`sh -c ${'echo x; exit 1'}`.nothrow().text(), 'x', 'unless nothrow');
  }));

  test('on a RunError too; and they are methods, not fields', leakFree(async () => {
    const error = await $`sh -c ${'echo [3]; exit 1'}`.nothrow();
    assert.deepEqual(error.json(), [3]);
    const result = await $`echo x`;
    assert.deepEqual(Object.keys(result).filter((key) => ['text', 'json', 'lines'].includes(key)), []);
    assert.equal(JSON.parse(JSON.stringify(result)).stdout, 'x');
  }));

  test('the results of a pipeline have them, a command ended by a broken pipe included', pidfdOnly("between Node's socketpairs `yes` whose reader left gets ECONNRESET on Linux, not SIGPIPE"), leakFree(async () => {
    const result = await run('yes').pipe('head', ['-n', '1']);
    assert.equal(result.text(), 'y');
    assert.equal(result.pipedFrom[0].signal, 'SIGPIPE');
    assert.throws(() => result.pipedFrom[0].text(), { code: 'ERR_PIDFD_NO_STDOUT' }, 'its stdout went to the pipe');
  }));

  test('say clearly when there is no stdout, or it is not JSON', leakFree(async () => {
    const ignored = await $({ stdout: 'ignore' })`echo x`;
    for (const method of ['text', 'json', 'lines']) {
      const error = thrown(() => ignored[method]());
      assert.equal(error.code, 'ERR_PIDFD_NO_STDOUT');
      assert.match(error.message, /`echo x` has no captured stdout/);
    }
    await assert.rejects($`echo not json`.json(), (e) => e instanceof SyntaxError && /stdout of `echo not json` is not JSON/.test(e.message));
  }));
});

describe('within(options, fn)', () => {
  test('applies its options to every run() and $ inside, across awaits and timers, and not outside', leakFree(async () => {
    const value = await within({ cwd: '/', env: { SCOPED: 'yes' } }, async () => {
      assert.equal((await $`pwd`).stdout, '/');
      assert.equal((await run('pwd')).stdout, '/');
      assert.equal((await $('pwd')).stdout, '/');
      await sleep(1);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const later = await new Promise((resolve) => setTimeout(() => resolve($`sh -c ${'echo $SCOPED'}`.text()), 1));
      assert.equal(later, 'yes', 'a timer set inside runs inside');
      assert.equal((await run('pwd').pipe('cat')).stdout, '/', 'pipe(file)');
      assert.equal(await $`echo x`.pipe`pwd`.text(), '/', 'pipe`…`');
      return 'returned';
    });
    assert.equal(value, 'returned', "within() gives fn's value");
    assert.equal((await $`pwd`).stdout, process.cwd(), 'outside, nothing applies');
    assert.equal(await $`sh -c ${'echo ${SCOPED:-unset}'}`.text(), 'unset');
  }));

  test("a run's own options win; env is merged key by key; a relative cwd is the scope's", leakFree(async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pidfd-within-')));
    try {
      mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
      await within({ cwd: dir, env: { A: 'scope', B: 'scope' } }, async () => {
        assert.equal(await $({ env: { B: 'bound' } })`sh -c ${'echo $A-$B'}`.text(), 'scope-bound');
        assert.equal(await run('sh', ['-c', 'echo $A-$B'], { env: { A: 'own' } }).text(), 'own-scope');
        assert.equal(await run('pwd', { cwd: 'sub' }).text(), join(dir, 'sub'), 'relative to the scope');
        assert.equal(await run('pwd', { cwd: '/' }).text(), '/');
        await within({ cwd: 'sub' }, async () => {
          assert.equal(await $`pwd`.text(), join(dir, 'sub'), 'an inner scope is relative to the outer');
          assert.equal(await $`sh -c ${'echo $A'}`.text(), 'scope', 'and keeps what it does not change');
          await within({ cwd: 'deeper' }, async () => assert.equal(await $`pwd`.text(), join(dir, 'sub', 'deeper')));
        });
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
  }));

  test('scopes that run at once do not see each other', leakFree(async () => {
    const [a, b] = await Promise.all([
      within({ cwd: '/' }, async () => { await sleep(5); return $`pwd`.text(); }),
      within({ cwd: '/tmp' }, async () => { await sleep(1); return $`pwd`.text(); }),
    ]);
    assert.deepEqual([a, b], ['/', realpathSync('/tmp')]);
  }));

  test('reject, timeout and signal apply to every run of the scope', leakFree(async () => {
    await within({ reject: false }, async () => {
      assert.equal((await $`false`).failed, true, 'resolved');
    });
    const controller = new AbortController();
    await within({ signal: controller.signal }, async () => {
      const slow = $`sleep 30`;
      controller.abort();
      await assert.rejects(slow, (error) => error.isCanceled === true);
    });
    await within({ timeout: 50 }, async () => {
      await assert.rejects($`sleep 30`, (error) => error.timedOut === true);
    });
  }));

  test('works in a worker thread, whose scopes are its own', leakFree(async () => {
    const worker = new Worker(join(runFixtures, 'worker-within.mjs'));
    // Listened for from the start: a worker that posts and ends may emit both in one turn.
    const exited = once(worker, 'exit');
    const [[message]] = await Promise.all([once(worker, 'message'), within({ cwd: '/tmp' }, () => sleep(1))]);
    assert.equal(message, '/');
    assert.deepEqual(await exited, [0]);
  }));

  test('refuses the options that decide a result type or belong to one command, and bad values, before fn runs', () => {
    let ran = false;
    const fn = () => (ran = true);
    for (const key of ['encoding', 'lines', 'stdout', 'stderr', 'all', 'input', 'stdin', 'shell', 'node']) {
      const error = thrown(() => within({ [key]: undefined }, fn));
      assert.equal(error.code, 'ERR_INVALID_ARG_VALUE', key);
      assert.match(error.message, /cannot be given to within\(\)/);
    }
    assert.equal(thrown(() => within({ timeout: -1 }, fn)).code, 'ERR_OUT_OF_RANGE');
    assert.equal(thrown(() => within({ verbose: 'loud' }, fn)).code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(thrown(() => within(null, fn)).code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(thrown(() => within({}, 'not a function')).code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(ran, false);
    assert.equal(within({}, () => 7), 7, 'a synchronous fn');
    within({ env: { A: '1' } }, () => {
      const error = thrown(() => run('true', { env: new Map([['B', '2']]) }));
      assert.match(error.message, /a Map or another iterable is not/, "a run's bad env is still refused inside a scope");
    });
  });
});

/** Runs a script in a child Node with `env`, and gives its stderr (where the log goes). */
async function logOf(script, env = {}) {
  const source = `import { run, $ } from ${JSON.stringify(join(root, 'dist', 'index.js'))};\n${script}`;
  const result = await run(process.execPath, ['--input-type=module', '-e', source], {
    env: { PIDFD_VERBOSE: undefined, NO_COLOR: undefined, ...env },
  });
  return result.stderr.split('\n').filter((line) => line !== '');
}

const head = String.raw`\[\d\d:\d\d:\d\d\.\d{3}\] \[(\d+)\]`;

describe('verbose and quiet', () => {
  test("'short': the command when it starts, then its end with its duration; nothing of its output", leakFree(async () => {
    const log = await logOf(`await $({ verbose: 'short' })\`sh -c \${'echo out; echo err >&2'}\`;`);
    assert.equal(log.length, 2, log.join('\n'));
    assert.match(log[0], new RegExp(`^${head} \\$ sh -c 'echo out; echo err >&2'$`));
    assert.match(log[1], new RegExp(`^${head} ✔ done in \\d+(\\.\\d+)? m?s$`));
    assert.equal(/\[(\d+)\]/.exec(log[0])[1], /\[(\d+)\]/.exec(log[1])[1], 'one number for both lines');
    assert.doesNotMatch(log.join('\n'), /\x1b/, 'no colours where stderr is not a terminal');
  }));

  test("'full': the lines of captured stdout and stderr too, as they come", leakFree(async () => {
    const log = await logOf(`await run('sh', ['-c', 'echo one; echo two >&2; printf three'], { verbose: 'full' });`);
    assert.match(log[0], /\$ sh -c 'echo one; echo two >&2; printf three'$/);
    assert.deepEqual(log.slice(1, -1).map((line) => line.replace(new RegExp(`^${head} `), '')).sort(), ['  one', '  three', '  two']);
    assert.match(log.at(-1), /✔ done in/);
  }));

  test('a failure: ✘ and how it failed; ⚠ when it does not reject; `|` for the next command of a pipeline', pidfdOnly("between Node's socketpairs `yes` whose reader left gets ECONNRESET on Linux, not SIGPIPE"), leakFree(async () => {
    const log = await logOf(`
      const v = $({ verbose: 'short' });
      await v\`sh -c \${'exit 3'}\`.catch(() => {});
      await v\`sh -c \${'exit 4'}\`.nothrow();
      await v\`echo x\`.pipe\`cat\`;
      await v\`yes\`.pipe\`head -n 1\`;
    `);
    const text = log.join('\n');
    assert.match(text, new RegExp(`${head} ✘ failed with exit code 3, in \\d`));
    assert.match(text, new RegExp(`${head} ⚠ failed with exit code 4, in \\d`));
    assert.match(text, new RegExp(`${head} \\| cat$`, 'm'));
    assert.match(text, /\[5\] ✔ done in .* \(SIGPIPE ended it: the next command stopped reading\)$/m, 'yes, which head stopped reading, did not fail');
    const ids = log.map((line) => Number(/\[(\d+)\]/.exec(line)[1]));
    assert.deepEqual([...new Set(ids)], [1, 2, 3, 4, 5, 6], 'each run has its own number, in order');
  }));

  test('a command that cannot start is logged: its start, then ✘ could not start; ⚠ with .nothrow()', leakFree(async () => {
    const log = await logOf(`
      const v = $({ verbose: 'short' });
      await v\`pidfd-no-such-command-1\`.catch(() => {});
      await v\`pidfd-no-such-command-2\`.nothrow();
    `);
    const text = log.join('\n');
    assert.match(text, new RegExp(`^${head} \\$ pidfd-no-such-command-1$`, 'm'));
    assert.match(text, new RegExp(`^${head} ✘ could not start \\(.*ENOENT.*\\), in \\d`, 'm'));
    assert.match(text, new RegExp(`^${head} \\$ pidfd-no-such-command-2$`, 'm'));
    assert.match(text, new RegExp(`^${head} ⚠ could not start \\(.*ENOENT.*\\), in \\d`, 'm'), 'nothrow() comes after the outcome is made');
  }));

  test('PIDFD_VERBOSE switches it on without changing the code; quiet and verbose: none turn it off', leakFree(async () => {
    const script = `
      await $\`echo plain\`;
      await $({ quiet: true })\`echo quiet\`;
      await run('echo', ['none'], { verbose: 'none' });
      await run('echo', ['full'], { verbose: 'full' });
    `;
    const none = (await logOf(script)).join('\n');
    assert.doesNotMatch(none, /echo plain/, 'nothing without the variable');
    assert.match(none, /\$ echo full$/m, 'but what the option asks');
    const short = (await logOf(script, { PIDFD_VERBOSE: 'short' })).join('\n');
    assert.match(short, /\$ echo plain$/m);
    assert.doesNotMatch(short, /echo quiet|echo none/);
    assert.match(short, /\$ echo full\n.*\] {3}full\n/, 'the option wins over the variable');
    const full = (await logOf(script, { PIDFD_VERBOSE: 'full' })).join('\n');
    assert.match(full, /\$ echo plain\n.*\] {3}plain\n/);
    assert.doesNotMatch(full, /quiet/);
    const off = (await logOf(script, { PIDFD_VERBOSE: '0' })).join('\n');
    assert.doesNotMatch(off, /echo plain/, "'0' is off");
    assert.match(off, /\$ echo full$/m);
  }));

  test('on a terminal: the time and number dimmed, the command bold, a failure coloured; not with NO_COLOR', { skip: !existsSync('/usr/bin/script') && 'no script(1) to give the child a terminal' }, leakFree(async () => {
    const source = `import { run } from ${JSON.stringify(join(root, 'dist', 'index.js'))}; await run('false', { verbose: 'short', reject: false });`;
    const line = [process.execPath, '--input-type=module', '-e', source].map(quoteForShell).join(' ');
    const onTerminal = (env) => run('/usr/bin/script', ['-qec', line, '/dev/null'], { env: { PIDFD_VERBOSE: undefined, NO_COLOR: undefined, ...env } });
    const coloured = (await onTerminal({})).stdout;
    assert.match(coloured, /^\x1b\[2m\[[\d:.]+\] \[1\]\x1b\[22m \$ \x1b\[1mfalse\x1b\[22m\r?$/m);
    assert.match(coloured, /\x1b\[33m⚠\x1b\[39m \x1b\[33mfailed with exit code 1, in /);
    const plain = (await onTerminal({ NO_COLOR: '1' })).stdout;
    assert.doesNotMatch(plain, /\x1b/);
    assert.match(plain, /\[1\] \$ false\r?$/m);
  }));

  test('a bad `verbose` is refused, saying what true and false are', () => {
    assert.match(thrown(() => run('true', { verbose: true })).message, /'none', 'short' or 'full' \(true is 'short'\)/);
    assert.equal(thrown(() => run('true', { verbose: 'debug' })).code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(thrown(() => run('true', { quiet: 1 })).code, 'ERR_INVALID_ARG_TYPE');
  });
});
