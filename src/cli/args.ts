// Command-line parsing helpers: durations, signals, the split between our options and a command.

import { parseArgs, type ParseArgsConfig } from 'node:util';

import { MAX_SIGNAL, signalNumberOf } from '../signals.js';

/** A user mistake on the command line: one line on stderr, and the command's usage exit code. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure while doing the work (no such process, permission denied): exit code 1. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds from "10", "10s", "1.5m", "250ms", "2h", "30d" (a bare number is seconds). */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)?$/.exec(text);
  const ms = match === null ? NaN : Number(match[1]) * units[match[2] ?? 's']!;
  if (!Number.isFinite(ms)) {
    throw new UsageError(`${option}: invalid duration ${JSON.stringify(text)} (examples: 10, 2.5s, 500ms, 1m, 2h, 3d)`);
  }
  if (ms > Number.MAX_SAFE_INTEGER) throw new UsageError(`${option}: the duration ${JSON.stringify(text)} is too large`);
  return ms;
}

/**
 * A signal number from "TERM", "SIGTERM", "sigterm", "RTMIN+3", or a number from 1 to 64 (0 too,
 * where it means "check only").
 */
export function parseSignal(text: string, option: string, { allowZero = false } = {}): number {
  const low = allowZero ? 0 : 1;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= low && n <= MAX_SIGNAL) return n;
    throw new UsageError(
      n === 0
        ? `${option}: signal 0 sends nothing; give a signal such as TERM, KILL or INT`
        : `${option}: ${text} is not a signal (signals are ${low} to ${MAX_SIGNAL}, or names such as TERM, KILL, RTMIN+3)`,
    );
  }
  const upper = text.toUpperCase();
  const n = signalNumberOf(upper.startsWith('SIG') ? upper : `SIG${upper}`);
  if (n === undefined) throw new UsageError(`${option}: unknown signal ${JSON.stringify(text)} (examples: TERM, KILL, INT, RTMIN+3)`);
  return n;
}

/** A pid argument: a positive integer. */
export function parsePid(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 0x7fffffff) {
    throw new UsageError(`invalid pid ${JSON.stringify(text)}: a pid is a positive integer`);
  }
  return Number(text);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses our options up to the command: everything after `--`, or from the first argument that
 * is not an option, is the command and its arguments, untouched.
 */
export function parseWithCommand(argv: string[], options: Options): { values: Record<string, unknown>; command: string[] } {
  let end = argv.indexOf('--');
  let rest: string[];
  if (end >= 0) {
    rest = argv.slice(end + 1);
  } else {
    end = argv.length;
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (!arg.startsWith('-') || arg === '-') {
        end = i;
        break;
      }
      const name = arg.replace(/^--?/, '').split('=')[0]!;
      const option = Object.entries(options).find(([long, o]) => long === name || o.short === name)?.[1];
      if (option?.type === 'string' && !arg.includes('=')) i++; // its value
    }
    rest = argv.slice(end);
  }
  return { values: parse(argv.slice(0, end), options).values, command: rest };
}

/**
 * The options and PIDs of a command that takes PIDs (wait, info, kill): null when --help was
 * asked for (the help is printed), a usage error when no PID is given.
 */
export function parsePidCommand(argv: string[], options: Options, help: string): { values: Record<string, unknown>; pids: number[] } | null {
  const { values, positionals } = parse(argv, options);
  if (values.help === true) {
    process.stdout.write(help);
    return null;
  }
  if (positionals.length === 0) throw new UsageError('no PID given');
  return { values, pids: positionals.map(parsePid) };
}

/**
 * An option that takes a value takes the next argument, whatever it is, as getopt does:
 * `--timeout -1` is the value "-1" (and then an invalid duration), not the "ambiguous" argument
 * that parseArgs sees there. Such pairs become `--name=value`, which parseArgs takes as they are.
 * Only one of our own options there is taken for a forgotten value.
 */
function joinValues(argv: string[], options: Options): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      joined.push(...argv.slice(i));
      break;
    }
    const entry = arg.startsWith('--')
      ? Object.entries(options).find(([long]) => `--${long}` === arg)
      : /^-[^-]$/.test(arg)
        ? Object.entries(options).find(([, o]) => o.short === arg[1])
        : undefined;
    const next = argv[i + 1];
    if (entry?.[1].type === 'string' && next !== undefined && next.startsWith('-') && next !== '--') {
      // `--timeout --report`: the value was forgotten, more likely than meant to be "--report".
      const name = next.replace(/^--?/, '').split('=')[0]!;
      if (Object.entries(options).some(([long, o]) => long === name || o.short === name)) throw new UsageError(`${arg} needs a value`);
      joined.push(`--${entry[0]}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** parseArgs in strict mode, with its errors turned into one-line usage errors. */
export function parse(argv: string[], options: Options): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: joinValues(argv, options), options, strict: true, allowPositionals: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
  }
}
