// text(), json() and lines(): a finished run's stdout in the form you want it, on every result
// and RunError (as zx's ProcessOutput has them), and on RunProcess for `await $`…`.json()`.
//
// Results are plain objects whose prototype holds these methods: their fields stay their own
// enumerable properties (a spread, JSON.stringify and deepEqual see the fields only).

import { pidfdError } from '../errors.js';
import type { Output } from './capture.js';

/** The methods every result (and RunError) has: its stdout as text, JSON or lines. */
export interface OutputFormats {
  /** stdout as text: a string as it is, lines joined with '\n', a Buffer decoded as UTF-8.
   * Throws (ERR_PIDFD_NO_STDOUT) when stdout was not captured. */
  text(): string;
  /** stdout parsed as JSON (a SyntaxError naming the command if it is not JSON). */
  json<T = any>(): T;
  /** stdout as lines, without their line endings (`\n` or `\r\n`) and without the empty one after
   * a final newline; [] for empty output. */
  lines(): string[];
}

interface Formatted {
  command: string;
  stdout: unknown;
}

function stdoutText(result: Formatted): string {
  const stdout = result.stdout as Output | undefined;
  if (typeof stdout === 'string') return stdout;
  if (Array.isArray(stdout)) return stdout.join('\n');
  if (stdout instanceof Uint8Array) return Buffer.from(stdout.buffer, stdout.byteOffset, stdout.byteLength).toString('utf8');
  throw pidfdError(
    'ERR_PIDFD_NO_STDOUT',
    `\`${result.command}\` has no captured stdout: its \`stdout\` option was not 'pipe', or stdout was piped or iterated`,
  );
}

/** The shared implementations (RunError's methods call them too). */
export const formats = {
  text(result: Formatted): string {
    return stdoutText(result);
  },
  json(result: Formatted): any {
    const text = stdoutText(result);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`The stdout of \`${result.command}\` is not JSON: ${(error as Error).message}`, { cause: error });
    }
  },
  lines(result: Formatted): string[] {
    if (Array.isArray(result.stdout)) return [...(result.stdout as string[])];
    const text = stdoutText(result);
    if (text === '') return [];
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  },
};

/** The prototype of every plain result. */
const resultPrototype: OutputFormats = Object.create(Object.prototype, {
  text: { value: function text(this: Formatted) { return formats.text(this); }, writable: true, configurable: true },
  json: { value: function json(this: Formatted) { return formats.json(this); }, writable: true, configurable: true },
  lines: { value: function lines(this: Formatted) { return formats.lines(this); }, writable: true, configurable: true },
});

/** `fields`, given the methods of OutputFormats (it is changed, and returned). */
export function withFormats<T extends Formatted>(fields: T): T & OutputFormats {
  return Object.setPrototypeOf(fields, resultPrototype) as T & OutputFormats;
}
