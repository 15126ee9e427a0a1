// parseCommandString(): a command line that you already have as one string (a config file's
// `build: "npm run build"`, a REPL's line) into a file and its arguments, never through a shell.
//
// The rules are the `$` template's for its literal text: the string is split where whitespace is
// (spaces, tabs, line breaks); a backslash right before a whitespace character makes that
// character part of the argument (`a\ b` is one argument, `a b`); every other character, other
// backslashes and quotes included, is kept as it is. execa's parseCommandString() splits on
// spaces only and merges a token that ends in a backslash with the next one, whatever the run of
// spaces between them: `a\   b` is `a b` there, and `a ` then `b` here, as a shell reads it.

import { invalidArgType } from '../errors.js';

const whitespace = new Set([' ', '\t', '\n', '\r']);

/**
 * Splits a command line into [file, ...args]: on whitespace, where `\` before a whitespace
 * character keeps it in the argument. Quotes mean nothing (no shell parses the string): use it for
 * strings that you trust to be split on whitespace, and `$` or run() with values otherwise.
 * Returns [] for a string of whitespace only.
 */
export function parseCommandString(command: string): string[] {
  if (typeof command !== 'string') throw invalidArgType('command', command, 'a string', 'argument');
  const tokens: string[] = [];
  let current: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (ch === '\\' && i + 1 < command.length && whitespace.has(command[i + 1]!)) {
      current = (current ?? '') + command[i + 1];
      i++;
    } else if (whitespace.has(ch)) {
      if (current !== null) tokens.push(current);
      current = null;
    } else {
      current = (current ?? '') + ch;
    }
  }
  if (current !== null) tokens.push(current);
  return tokens;
}
