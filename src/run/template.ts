// The `$` tag's parsing: a template literal into a file and its arguments, never through a shell.
//
// The literal text is split where whitespace was typed (spaces, tabs, line breaks); whitespace
// written as an escape (`\ `, `\t`, `\n`) is part of an argument. Each interpolated value is
// exactly one argument, whatever it contains (spaces, quotes, nothing at all), and is glued to
// literal text that touches it (`--out=${file}`); an array is one argument per element. Quotes
// and backslashes in the literal text mean nothing special: they are passed on as they are.

import { invalidArgType, invalidArgValue } from '../errors.js';
import { quoteForShell } from './command.js';

/** What `${…}` accepts: a string, a number, an array of them, or a finished run's result (its
 * stdout). */
export type TemplateValue = string | number | bigint | readonly (string | number | bigint)[] | { stdout: unknown };

const whitespace = new Set([' ', '\t', '\n', '\r']);

/** Whether `value` is the first argument of a tagged template call. */
export function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) && Array.isArray((value as { raw?: unknown }).raw);
}

function valueName(index: number): string {
  return `interpolated value ${index + 1}`;
}

const expected = "a string, a number, an array of them, or a finished run's result";

/** One interpolated value (not an array) as the text of an argument. */
function valueText(value: unknown, index: number): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value !== null && typeof value === 'object') {
    if (typeof (value as { then?: unknown }).then === 'function') {
      throw invalidArgValue(valueName(index), value, 'is a run that has not finished: interpolate `${await …}`, its result', 'argument');
    }
    if ('stdout' in value) {
      const stdout = (value as { stdout: unknown }).stdout;
      if (typeof stdout === 'string') return stdout;
      if (stdout instanceof Uint8Array) return Buffer.from(stdout.buffer, stdout.byteOffset, stdout.byteLength).toString('utf8');
      throw invalidArgValue(valueName(index), value, "is a result without captured stdout (its `stdout` option was not 'pipe', or `lines` was on)", 'argument');
    }
  }
  throw invalidArgType(valueName(index), value, expected, 'argument');
}

/** The arguments an interpolated value stands for. */
function valueArgs(value: unknown, index: number): string[] | string {
  if (!Array.isArray(value)) return valueText(value, index);
  return value.map((item: unknown) => {
    if (Array.isArray(item)) throw invalidArgType(`${valueName(index)}[]`, item, 'a string or a number (arrays do not nest)', 'argument');
    return valueText(item, index);
  });
}

/** The length in the raw text, and in the cooked text, of the escape sequence at raw[i] ('\'). */
function escapeLengths(raw: string, i: number): { raw: number; cooked: number } {
  const next = raw[i + 1];
  if (next === '\n') return { raw: 2, cooked: 0 }; // a line continuation produces nothing
  if (next === 'x') return { raw: 4, cooked: 1 };
  if (next === 'u' && raw[i + 2] === '{') {
    const end = raw.indexOf('}', i + 3);
    const codePoint = Number.parseInt(raw.slice(i + 3, end), 16);
    return { raw: end + 1 - i, cooked: codePoint > 0xffff ? 2 : 1 };
  }
  if (next === 'u') return { raw: 6, cooked: 1 };
  return { raw: 2, cooked: 1 };
}

/**
 * The argv that a template stands for: [file, ...args]. Throws a TypeError for an empty
 * template, a value of another type, an invalid escape, or an array glued to literal text.
 */
export function parseTemplate(strings: TemplateStringsArray, values: readonly unknown[]): string[] {
  const tokens: string[] = [];
  let current: string | null = null;
  for (let part = 0; part < strings.length; part++) {
    const cooked = strings[part];
    const raw = strings.raw[part]!;
    if (cooked === undefined) {
      throw invalidArgValue('$', raw, 'has an invalid escape sequence in its literal text', 'argument');
    }
    for (let r = 0, c = 0; r < raw.length; ) {
      const ch = raw[r]!;
      if (whitespace.has(ch)) {
        if (current !== null) tokens.push(current);
        current = null;
        r++;
        c++;
      } else if (ch === '\\') {
        const length = escapeLengths(raw, r);
        if (length.cooked > 0) current = (current ?? '') + cooked.slice(c, c + length.cooked);
        r += length.raw;
        c += length.cooked;
      } else {
        current = (current ?? '') + cooked[c];
        r++;
        c++;
      }
    }
    if (part === values.length) break;
    const args = valueArgs(values[part], part);
    if (typeof args === 'string') {
      current = (current ?? '') + args;
      continue;
    }
    const nextRaw = strings.raw[part + 1]!;
    if (current !== null || (nextRaw.length > 0 && !whitespace.has(nextRaw[0]!))) {
      throw invalidArgValue(
        valueName(part),
        values[part],
        'is an array glued to literal text, which is ambiguous: put whitespace around it, or glue the ' +
          'text to each element yourself (`${dirs.map((d) => `-I${d}`)}`)',
        'argument',
      );
    }
    tokens.push(...args);
  }
  if (current !== null) tokens.push(current);
  if (tokens.length === 0) throw invalidArgValue('$', '', 'has no command: the template is empty', 'argument');
  return tokens;
}

/**
 * The command line that a template stands for when `shell` is on: the literal text as written,
 * for the shell to parse, with each interpolated value quoted so that the shell sees it as one
 * word (an array as one word per element).
 */
export function shellTemplate(strings: TemplateStringsArray, values: readonly unknown[]): string {
  let line = '';
  for (let part = 0; part < strings.length; part++) {
    const cooked = strings[part];
    if (cooked === undefined) {
      throw invalidArgValue('$', strings.raw[part], 'has an invalid escape sequence in its literal text', 'argument');
    }
    line += cooked;
    if (part === values.length) break;
    const args = valueArgs(values[part], part);
    line += typeof args === 'string' ? quoteForShell(args) : args.map(quoteForShell).join(' ');
  }
  if (line.trim() === '') throw invalidArgValue('$', '', 'has no command: the template is empty', 'argument');
  return line;
}
