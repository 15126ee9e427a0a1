// Generated spawn() inputs for the fuzz test, each part carrying what it should cause: the
// validation error it must raise (`error`, a code), the spawn failure it must cause (`hazard`),
// or nothing. The model in spawn-model.js combines the parts in the library's documented order.

import fc from 'fast-check';
import { pathToFileURL } from 'node:url';

/** An option left out of the options object (as opposed to present and undefined). */
export const ABSENT = Symbol('absent');
/** A hole in a stdio array. */
export const HOLE = Symbol('hole');

export const TYPE = 'ERR_INVALID_ARG_TYPE';
export const VALUE = 'ERR_INVALID_ARG_VALUE';
export const RANGE = 'ERR_OUT_OF_RANGE';
export const SIGNAL = 'ERR_UNKNOWN_SIGNAL';

const ok = (value) => ({ value });
const bad = (error) => (value) => ({ value, error });
const pick = (...parts) => fc.constantFrom(...parts);
const weighted = (...pairs) => fc.oneof(...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));

/** Characters that break naive code: quotes, shell and env syntax, controls, lone surrogates. */
const oddChar = fc.oneof(
  fc.constantFrom(
    ' ',
    '\n',
    '\t',
    '=',
    '$',
    '\\',
    "'",
    '"',
    '-',
    '*',
    '\x7f',
    '\x01',
    'é',
    '😀',
    '\uD800',
    '\uDFFF',
    '\uFFFF',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c !== '\0'),
);
/** A string without NUL: any of these must reach the child (lone surrogates as U+FFFD). */
export const oddString = fc.string({ unit: oddChar, maxLength: 12 });
const withNul = fc.tuple(oddString, oddString).map(([a, b]) => `${a}\0${b}`);

/** One part of the input: its valid values, and those mixed with invalid ones (1 in ~10). */
const part = (valid, invalid) => ({ valid, any: weighted([10, valid], [1, invalid]) });

/**
 * The arbitrary of whole inputs, given the fixture paths and fds of the running test (`ctx`):
 * half of them valid in every part (so that most of those really spawn), half with invalid
 * values mixed into every part.
 */
export function spawnInputs(ctx) {
  const parts = partsFor(ctx);
  const record = (mode) => fc.record(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v[mode]])));
  return fc.oneof(record('valid'), record('any'));
}

function partsFor(ctx) {
  const file = part(
    weighted(
      [10, pick(ok(ctx.fixture))],
      [3, pick(ok('echo-self'))],
      [1, pick(ok('./echo-self'))],
      [1, pick(ok('/nonexistent-pidfd-fuzz/program'), ok(ctx.dir), ok(ctx.noexec), ok(ctx.noShebang))],
    ),
    fc.oneof(
      pick(bad(VALUE)(''), bad(VALUE)(undefined), bad(TYPE)(42), bad(TYPE)(null), bad(TYPE)({})),
      withNul.map(bad(VALUE)),
    ),
  );

  const args = part(
    fc.array(oddString, { maxLength: 6 }).map(ok),
    fc.oneof(
      fc.tuple(fc.array(oddString, { maxLength: 3 }), withNul).map(([a, n]) => bad(VALUE)([...a, n])),
      fc.constantFrom(1, null, undefined, {}).map((x) => bad(TYPE)(['a', x])),
      // Not an array: spawn(file, x) takes x for the options, and the options below are unused.
      fc.constantFrom('x', 5, true).map((x) => ({ value: x, error: TYPE, notArray: true })),
    ),
  );

  const argv0 = part(
    weighted([4, pick(ok(ABSENT))], [1, oddString.map(ok)]),
    fc.oneof(withNul.map(bad(VALUE)), pick(bad(TYPE)(5), bad(TYPE)(null))),
  );

  const path = pick(ABSENT, ctx.bin, `/nonexistent-pidfd-fuzz:${ctx.bin}`, '/nonexistent-pidfd-fuzz', '');
  const envKey = part(
    weighted(
      [5, oddString.filter((k) => k.length > 0 && !k.includes('='))],
      [1, pick('1', '01', ' ', '__proto__', 'constructor', 'toString')],
    ),
    fc.oneof(pick('', 'A=B', '='), withNul),
  );
  const envValue = part(
    weighted([5, oddString], [1, fc.oneof(fc.integer(), fc.boolean(), fc.double(), fc.constant(undefined))]),
    fc.oneof(
      withNul,
      pick(null, {}, () => 1, Symbol('s')),
    ),
  );
  const envObject = (mode) =>
    fc.record({
      entries: fc.array(fc.tuple(envKey[mode], envValue[mode]), { maxLength: 6 }),
      path,
      inherited: fc.boolean(),
    });
  const env = {
    valid: weighted([3, pick(ok(ABSENT), ok(undefined))], [8, envObject('valid')]),
    any: weighted(
      [3, pick(ok(ABSENT), ok(undefined))],
      [8, envObject('any')],
      [1, pick(bad(TYPE)('PATH=/bin'), bad(TYPE)(null), bad(TYPE)(5))],
    ),
  };

  const cwd = part(
    weighted(
      [8, pick(ok(ABSENT))],
      [8, pick(ok('/'), ok(ctx.bin), ok(pathToFileURL(ctx.bin)), ok(ctx.dir), ok('.'))],
      [1, pick(ok('/nonexistent-pidfd-fuzz/dir'), ok(ctx.noexec))],
    ),
    fc.oneof(
      withNul.map(bad(VALUE)),
      pick(bad(VALUE)(''), bad(VALUE)(new URL('http://example.com/')), bad(TYPE)(5), bad(TYPE)(null)),
    ),
  );

  const openFd = pick(0, 1, 2, ctx.devnullFd);
  const closedFd = fc.oneof(fc.integer({ min: 5000, max: 19999 }), fc.constant(2 ** 31 - 1));
  const stdioEntry = part(
    weighted(
      [24, pick('pipe', 'inherit', 'ignore', null, undefined, HOLE)],
      [6, openFd],
      [1, closedFd],
      [2, pick({ fd: ctx.devnullFd }, process.stderr)],
    ),
    pick(-1, 1.5, 2 ** 31, 'bogus', {}, true),
  );
  const far = fc.option(fc.tuple(fc.integer({ min: 8, max: 60 }), pick('pipe', ctx.devnullFd, 'inherit')));
  const stdioList = (mode) => fc.record({ list: fc.array(stdioEntry[mode], { maxLength: 8 }), far });
  const stdioString = pick(ok(ABSENT), ok('pipe'), ok('inherit'), ok('ignore'), ok(undefined));
  const stdio = {
    valid: weighted([3, stdioString], [8, stdioList('valid')]),
    any: weighted(
      [3, stdioString],
      [8, stdioList('any')],
      [1, pick(bad(VALUE)('bogus'), bad(VALUE)(5), bad(VALUE)(null))],
    ),
  };

  const detached = part(
    weighted([8, pick(ok(ABSENT), ok(false), ok(undefined))], [3, pick(ok(true))]),
    pick(bad(TYPE)('yes'), bad(TYPE)(1), bad(TYPE)(null)),
  );
  const processGroup = part(
    weighted(
      [8, pick(ok(ABSENT), ok(false), ok(undefined))],
      [3, pick(ok(true), ok(0), ok(ctx.pgid), ok(2 ** 31 - 1))],
    ),
    pick(bad(RANGE)(-1), bad(RANGE)(1.5), bad(RANGE)(2 ** 31), bad(TYPE)('x'), bad(TYPE)(null)),
  );
  const id = (own) =>
    part(
      weighted(
        [8, pick(ok(ABSENT), ok(undefined))],
        [3, pick(ok(own), ok(65534), ok(12345), ok(4294967294))],
      ),
      pick(
        bad(RANGE)(-1),
        bad(RANGE)(2 ** 32),
        bad(RANGE)(1.5),
        bad(RANGE)(NaN),
        bad(RANGE)(4294967295),
        bad(TYPE)('0'),
        bad(TYPE)(null),
      ),
    );
  const groups = part(
    weighted([8, pick(ok(ABSENT))], [2, pick(ok([]), ok([ctx.gid]), ok([65534, 12345, 65534]))]),
    pick(bad(TYPE)('x'), bad(RANGE)([-1]), bad(TYPE)(['0']), bad(RANGE)([1.5])),
  );
  const killOnParentExit = part(
    weighted(
      [8, pick(ok(ABSENT), ok(false), ok(undefined))],
      [3, pick(ok(true), ok('SIGTERM'), ok('SIGRTMIN+2'), ok(10))],
    ),
    pick(
      bad(SIGNAL)('SIGFOO'),
      bad(RANGE)(65),
      bad(RANGE)(0),
      bad(RANGE)(1.5),
      bad(TYPE)(null),
      bad(TYPE)({}),
    ),
  );
  const cgroup = part(
    weighted(
      [16, pick(ok(ABSENT))],
      [1, pick(ok('/nonexistent-pidfd-fuzz/cgroup'), ok(ctx.dir), ok(ctx.devnullFd), ok(19999))],
    ),
    fc.oneof(
      withNul.map(bad(VALUE)),
      pick(
        bad(RANGE)(-1),
        bad(RANGE)(1.5),
        bad(RANGE)(2 ** 31),
        bad(VALUE)(''),
        // An object is a per-run cgroup's settings ({} included): an unknown one is refused.
        bad(VALUE)({ memroyMax: 1 }),
        bad(TYPE)([]),
        bad(TYPE)(null),
      ),
    ),
  );
  const signal = part(
    weighted(
      [10, pick(ok(ABSENT))],
      [2, pick({ make: () => new AbortController().signal })],
      [1, pick({ make: () => AbortSignal.abort(), aborted: true })],
    ),
    pick(bad(TYPE)({}), bad(TYPE)('x'), bad(TYPE)(null)),
  );
  const killSignal = part(
    weighted([8, pick(ok(ABSENT))], [2, pick(ok('SIGKILL'), ok(9))]),
    pick(bad(SIGNAL)('NOPE'), bad(RANGE)(0), bad(TYPE)(null)),
  );
  const unknown = part(
    pick(ok(ABSENT)),
    pick('shell', 'timeout', 'encoding', 'windowsHide', 'serialization', 'bogusOption', 'Cwd').map((key) => ({
      value: key,
      error: VALUE,
    })),
  );
  const shape = part(pick(ok({})), pick(bad(TYPE)('str'), bad(TYPE)(5), bad(TYPE)(null)));

  const uid = id(ctx.uid);
  const gid = id(ctx.gid);
  return {
    file,
    args,
    shape,
    unknown,
    argv0,
    cwd,
    env,
    stdio,
    detached,
    processGroup,
    uid,
    gid,
    groups,
    killOnParentExit,
    cgroup,
    signal,
    killSignal,
  };
}
