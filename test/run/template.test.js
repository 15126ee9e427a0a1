// `$`: how a template literal becomes a file and its arguments, never through a shell, and the
// cases that surprise people.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { $ } from '../../dist/index.js';
import { parseTemplate } from '../../dist/run/template.js';
import { childPids, thrown } from '../helpers/index.js';
import { leakFree } from './helpers.js';

/** The argv a template stands for. */
const argv = (strings, ...values) => parseTemplate(strings, values);

describe('$ splitting and interpolation', () => {
  const cases = [
    ['whitespace typed in the literal (spaces, a tab, a line break) separates', argv`ls  -l	-a
      /tmp`, ['ls', '-l', '-a', '/tmp']],
    ['leading and trailing whitespace is ignored', argv`  echo x  `, ['echo', 'x']],
    ['a value is one argument, spaces and all', argv`echo ${'a b'} ${'  '}`, ['echo', 'a b', '  ']],
    ['an empty string is one empty argument', argv`printf %s ${''} x`, ['printf', '%s', '', 'x']],
    ['quotes and $ in a value are plain characters', argv`echo ${`"it's" $HOME; rm -rf /`}`, ['echo', `"it's" $HOME; rm -rf /`]],
    ['a value glued to literal text is part of that argument', argv`cc -o${'out file'} --x=${1}`, ['cc', '-oout file', '--x=1']],
    ['two values glued together make one argument', argv`echo ${'a'}${'b'}`, ['echo', 'ab']],
    ['an array is one argument per element', argv`rm -- ${['a b', 'c']} end`, ['rm', '--', 'a b', 'c', 'end']],
    ['an empty array is no argument at all', argv`ls ${[]} -l`, ['ls', '-l']],
    ['numbers and bigints become their decimal text', argv`head -n ${5} -c ${10n}`, ['head', '-n', '5', '-c', '10']],
    ['a result interpolates its stdout', argv`echo ${{ stdout: 'from before' }}`, ['echo', 'from before']],
    ['a Buffer stdout is decoded', argv`echo ${{ stdout: Buffer.from('bytes') }}`, ['echo', 'bytes']],
    // The surprising cases:
    ['quotes in the literal text are NOT shell quotes: they stay, and do not group', argv`git commit -m "two words"`, ['git', 'commit', '-m', '"two', 'words"']],
    ['an escaped space (\\ ) keeps words together', argv`touch a\ b`, ['touch', 'a b']],
    ['an escape sequence (\\n, \\t) is a character of the argument, not a separator', argv`printf a\nb\tc`, ['printf', 'a\nb\tc']],
    ['a line ending in \\ continues on the next line', argv`echo a\
b`, ['echo', 'ab']],
    ['no globbing, no variables, no pipes: * $X | are plain arguments', argv`echo * $HOME | wc`, ['echo', '*', '$HOME', '|', 'wc']],
  ];
  for (const [title, actual, expected] of cases) {
    test(title, () => assert.deepEqual(actual, expected));
  }

  const refused = [
    ['undefined', () => argv`echo ${undefined}`, 'ERR_INVALID_ARG_TYPE', /interpolated value 1/],
    ['null', () => argv`echo ${null}`, 'ERR_INVALID_ARG_TYPE', /got null/],
    ['a boolean', () => argv`echo ${true}`, 'ERR_INVALID_ARG_TYPE', /a string, a number, an array of them/],
    ['a plain object', () => argv`echo ${{ a: 1 }}`, 'ERR_INVALID_ARG_TYPE', /got an object/],
    ['a run not awaited (a thenable)', () => argv`echo ${{ then() {} }}`, 'ERR_INVALID_ARG_VALUE', /\$\{await …\}/],
    ['a result without stdout', () => argv`echo ${{ stdout: undefined }}`, 'ERR_INVALID_ARG_VALUE', /without captured stdout/],
    ['nested arrays', () => argv`echo ${[['a']]}`, 'ERR_INVALID_ARG_TYPE', /arrays do not nest/],
    ['an array glued to text', () => argv`cc -I${['a', 'b']}`, 'ERR_INVALID_ARG_VALUE', /glued to literal text/],
    ['text glued after an array', () => argv`echo ${['a']}x`, 'ERR_INVALID_ARG_VALUE', /glued to literal text/],
    ['an empty template', () => argv`  `, 'ERR_INVALID_ARG_VALUE', /no command/],
    ['an invalid escape', () => argv`echo \unicorn`, 'ERR_INVALID_ARG_VALUE', /invalid escape/],
  ];
  for (const [what, fn, code, message] of refused) {
    test(`refuses ${what} (TypeError ${code}), before anything starts`, () => {
      const before = childPids();
      const error = thrown(fn);
      assert.ok(error instanceof TypeError);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      assert.deepEqual(childPids(), before);
    });
  }
});

describe('$ running commands', () => {
  test('runs the command the template spells, with each value as one argument', leakFree(async () => {
    const file = "name with 'quotes' and $dollar";
    const result = await $`printf %s\n ${file} ${['x', 'y']}`;
    assert.deepEqual(result.stdout.split('\n'), [file, 'x', 'y']);
    assert.equal(result.command, `printf %s\n ${file} x y`);
  }));

  test('$(options) binds options; binding again merges them', leakFree(async () => {
    const inRoot = $({ cwd: '/' });
    assert.equal((await inRoot`pwd`).stdout, '/');
    const lines = inRoot({ lines: true });
    assert.deepEqual((await lines`printf a\nb`).stdout, ['a', 'b']);
    assert.deepEqual((await lines`pwd`).stdout, ['/'], 'cwd is still bound');
    assert.equal(thrown(() => $(null)).code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(thrown(() => $({ timeout: -1 })`true`).code, 'ERR_OUT_OF_RANGE', 'options are checked at each run');
  }));

  test('$({ shell: true }): the literal text is shell code; each value is quoted as one word', leakFree(async () => {
    const sh = $({ shell: true });
    const tricky = "a b; echo injected 'x'";
    const result = await sh`printf '%s\n' ${tricky} ${['1 2', '3']} | wc -l`;
    assert.equal(result.stdout.trim(), '3', 'three words reached printf; nothing was injected');
  }));

  test('a result can be interpolated into the next command', leakFree(async () => {
    const where = await $`pwd`;
    assert.equal((await $`ls -d ${where}`).stdout, process.cwd());
  }));
});
