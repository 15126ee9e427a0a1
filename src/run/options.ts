// Validate run()'s arguments and options, before anything is started.
//
// As for spawn() (src/process/options.ts), each option is declared once: its type in RunOptions
// and its parser in `parsers`, which the compiler holds to the same keys.
//
// Over 350 lines for that reason: about thirty options, each with its documented type, its parser
// and its default side by side, and normalizeRun(), which checks how they combine. Split, an
// option's type and its parser would live in two files that must change together.

import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { parseCgroupSettings } from '../cgroup/settings.js';
import { portableEngine } from '../engine-choice.js';
import { invalidArgType, invalidArgValue } from '../errors.js';
import { parseCommand, parseCwd, parseEnv, parseId } from '../process/options.js';
import { normalizeStdio, type StdioEntry, type StdioOption, type StreamWithFd } from '../process/stdio.js';
import { SIGTERM, signalNumber, type Signal } from '../signals.js';
import {
  validateAbortSignal,
  validateBoolean,
  validateFd,
  validateInteger,
  validateKnownOptions,
  validateString,
} from '../validate.js';
import { commandLines, quoteForShell } from './command.js';
import { scoped } from './scope.js';
import { parseVerbose, type VerboseOption } from './verbose.js';
import type { Launch, TreeLimits, TreeSettings } from './tree.js';

/** A file for a child's stdin (`{ file }`), or its stdout or stderr (`{ file, append }`). */
export interface FileTarget {
  file: string | URL;
  /** Append to the file instead of truncating it (stdout, stderr). Default false. */
  append?: boolean;
}

/** Where the child's stdin comes from. */
export type StdinOption = 'pipe' | 'inherit' | 'ignore' | number | StreamWithFd | FileTarget;

/** One place among several for stdout or stderr (the array form of OutputOption). */
export type OutputTarget = 'pipe' | 'inherit' | number | StreamWithFd | FileTarget;

/** A transform of captured lines: each line (without its newline) gives the line that replaces
 * it, or undefined to drop it; a generator function yields 0 or more lines for each. */
export type LineTransform = ((line: string) => string | undefined) | ((line: string) => Iterable<string>);

/** Where the child's stdout or stderr goes: 'pipe' captures it into the result; 'stream' gives
 * it to you as `runProcess.stdout` (or `stderr`), uncaptured. An array sends it to several
 * places at once (`['pipe', { file: 'build.log' }, 'inherit']`), copied by the kernel; a
 * function (or generator function), alone or with 'pipe' in an array, transforms the captured
 * lines. */
export type OutputOption =
  | 'pipe'
  | 'stream'
  | 'inherit'
  | 'ignore'
  | number
  | StreamWithFd
  | FileTarget
  | LineTransform
  | readonly (OutputTarget | LineTransform)[];

/** What `input` accepts. */
export type RunInput = string | Uint8Array | Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/** The `encoding` option: 'buffer' or a name Buffer.isEncoding() knows (in any case). */
export type RunEncoding = BufferEncoding | 'buffer';

/** An encoding by its one name: what `encoding` gives, once checked. */
export type CanonicalEncoding = 'utf8' | 'utf16le' | 'latin1' | 'ascii' | 'hex' | 'base64' | 'base64url' | 'buffer';

/** The encodings that decode text (lines, a final newline, the text of messages). */
export function isTextEncoding(encoding: CanonicalEncoding): encoding is 'utf8' | 'utf16le' | 'latin1' | 'ascii' {
  return encoding === 'utf8' || encoding === 'utf16le' || encoding === 'latin1' || encoding === 'ascii';
}

/** Every name of an encoding, lower case, to its one name. */
const encodingNames: Record<string, CanonicalEncoding> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  utf16le: 'utf16le',
  'utf-16le': 'utf16le',
  ucs2: 'utf16le',
  'ucs-2': 'utf16le',
  latin1: 'latin1',
  binary: 'latin1',
  ascii: 'ascii',
  hex: 'hex',
  base64: 'base64',
  base64url: 'base64url',
  buffer: 'buffer',
};

function parseEncoding(value: unknown): CanonicalEncoding {
  if (value === undefined) return 'utf8';
  const expected = "'buffer' or the name of an encoding that Buffer.isEncoding() knows ('utf8', 'utf16le', 'latin1', 'ascii', 'hex', 'base64', 'base64url', ...)";
  if (typeof value !== 'string') {
    throw invalidArgType('encoding', value, value === null ? `${expected} (null is not: for Buffers, give 'buffer')` : expected);
  }
  const name = encodingNames[value.toLowerCase()];
  if (name !== undefined) return name;
  // A name this Node knows and the table does not (a later Node's): as Node calls it.
  if (Buffer.isEncoding(value)) return value.toLowerCase() as CanonicalEncoding;
  throw invalidArgValue('encoding', value, `must be ${expected}`);
}

/** Options of run() and `$`. Every option is checked before anything is started. */
export interface RunOptions {
  /** The child's working directory (default: this process's). */
  cwd?: string | URL;
  /** Environment variables: added to this process's (see extendEnv). */
  env?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Whether `env` adds to this process's environment (true) or replaces it (false). */
  extendEnv?: boolean;
  /** Written to the child's stdin, which is then closed. */
  input?: RunInput;
  /** A file the child's stdin reads. */
  inputFile?: string | URL;
  /** Default 'ignore' (/dev/null), or a pipe with `input`. */
  stdin?: StdinOption;
  /** Default 'pipe': captured into the result. */
  stdout?: OutputOption;
  /** Default 'pipe': captured into the result. 'stdout': the shell's `2>&1`, the child's stderr
   * goes where its stdout goes (the same pipe, file or fd): captured with it, piped with it. */
  stderr?: OutputOption | 'stdout';
  /**
   * The child's fds above 2, by index: `stdio[3]` is its fd 3, as spawn()'s `stdio` takes them
   * ('inherit', 'ignore', an fd number or a stream with a file descriptor; not 'pipe'). Indexes
   * 0-2 stay undefined: they are `stdin`, `stdout` and `stderr`.
   */
  stdio?: readonly StdioOption[];
  /**
   * How captured output is given: 'buffer' (Buffers), or strings in any encoding Node knows
   * (Buffer.isEncoding): text decoded as 'utf8' (the default), 'utf16le' ('ucs2'), 'latin1'
   * ('binary') or 'ascii'; bytes written out as 'hex', 'base64' or 'base64url'.
   */
  encoding?: RunEncoding;
  /** The most bytes captured from stdout, and from stderr (with `lines`: the most lines);
   * beyond it the tree is killed. Default 100,000,000. */
  maxBuffer?: number;
  /** Remove one final newline (`\n` or `\r\n`) from captured output. Default true with a text
   * encoding, false with 'buffer', 'hex', 'base64' and 'base64url' (bytes untouched). */
  stripFinalNewline?: boolean;
  /** Captured output as arrays of lines (text encodings only). Default false. */
  lines?: boolean;
  /** Also capture stdout and stderr together, in the order they arrived, as `all`. */
  all?: boolean;
  /** Kill the tree after this many milliseconds (0: never, the default). */
  timeout?: number;
  /** The signal of a timeout, a cancel, maxBuffer and kill(). Default 'SIGTERM'. */
  killSignal?: Signal;
  /** Milliseconds after killSignal before SIGKILL (false: never). Default 5000. */
  forceKillAfterDelay?: number | boolean;
  /** Cancel the run: the tree is killed. */
  signal?: AbortSignal;
  /** Whether a failed run rejects (true, the default) or resolves with its RunError. */
  reject?: boolean;
  /** Look for the program in node_modules/.bin of the working directory and its parents first. */
  preferLocal?: boolean;
  /** Run `file` as a script with this Node (process.execPath) and its flags. */
  node?: boolean;
  /** An IPC channel with the Node child (`node: true`): sendMessage(), getOneMessage(),
   * getEachMessage(); the child uses process.send() and 'message', or pidfd/ipc. Default false. */
  ipc?: boolean;
  /** How IPC messages are serialized: 'advanced' (the default: structured clone, so Map, Set,
   * BigInt, Date, typed arrays...) or 'json'. Needs `ipc`. */
  serialization?: 'json' | 'advanced';
  /** With `ipc` and `signal`: an abort sends the child a cancel message (getCancelSignal() of
   * pidfd/ipc) instead of killSignal; killSignal follows after forceKillAfterDelay if it has not
   * ended by then. Default false. */
  gracefulCancel?: boolean;
  /** Run `file` as a command line of /bin/sh (true) or of this shell; args are quoted. */
  shell?: boolean | string;
  /** argv[0] as the program sees it (default: the program as run). */
  argv0?: string;
  /** Run as this user id (setuid; supplementary groups are dropped, as spawn() does). */
  uid?: number;
  /** Run as this group id (setgid). */
  gid?: number;
  /** Kill the tree when this process dies, even by SIGKILL. Default true. */
  cleanup?: boolean;
  /**
   * The command's tree (default true): every process it starts is reached by kills and
   * `cleanup`, through a per-run cgroup wherever one can be made (else its process group). An
   * object gives that cgroup's settings, as spawn's `cgroup` option takes them (`parent`,
   * `memoryMax`, `pidsMax`, `cpuMax`, ...), and requires it: the run fails before starting if it
   * cannot be made or a limit cannot be applied. false: the command alone.
   */
  tree?: boolean | TreeLimits;
  /** Log the command on stderr when it starts and when it ends ('short'), with its captured
   * output's lines between ('full'); 'none' logs nothing. Default: PIDFD_VERBOSE from the
   * environment ('short' or 'full'), else 'none'. */
  verbose?: VerboseOption;
  /** Log nothing, whatever `verbose` or PIDFD_VERBOSE say (zx's `quiet`). Default false. */
  quiet?: boolean;
  /** Create the run without starting it (zx's `halt`): nothing is opened, spawned or logged
   * until runProcess.run(). Not read for a piped command, which starts with the command before
   * it. Default false. */
  halt?: boolean;
}

/** A child fd setting, checked. `file` is opened when the run starts. */
export type StdioSetting =
  | { kind: 'pipe' | 'stream' | 'inherit' | 'ignore' }
  /** stderr only: where stdout goes (2>&1). */
  | { kind: 'stdout' }
  | { kind: 'fd'; fd: number | StreamWithFd }
  | { kind: 'file'; path: string; append: boolean }
  /** Several places at once: the capture (with `capture`) and each of `targets`, in order. */
  | { kind: 'tee'; capture: boolean; targets: TeeTarget[] };

/** One place of a tee besides the capture. */
export type TeeTarget = { kind: 'inherit' } | { kind: 'fd'; fd: number | StreamWithFd } | { kind: 'file'; path: string; append: boolean };

/** run()'s options, checked, and the argv that will run. */
export interface NormalizedRun {
  /** The program that will run and its whole argv (after `node` and `shell`). */
  file: string;
  argv: string[];
  command: string;
  escapedCommand: string;
  /** The working directory as given, and as an absolute path. */
  cwd: string | undefined;
  resolvedCwd: string;
  env: string[] | null;
  path: string | undefined;
  /** -1: leave. */
  uid: number;
  gid: number;
  /** The child's fds above 2 (`stdio[3+]`). */
  extraStdio: StdioEntry[];
  stdin: StdioSetting;
  stdout: StdioSetting;
  stderr: StdioSetting;
  /** The transforms of captured lines (run in order), per stream; empty: none. */
  transforms: { stdout: LineTransform[]; stderr: LineTransform[] };
  input: RunInput | undefined;
  encoding: CanonicalEncoding;
  maxBuffer: number;
  stripFinalNewline: boolean;
  lines: boolean;
  all: boolean;
  timeout: number;
  killSignal: number;
  /** -1: never. */
  forceKillAfterDelay: number;
  signal: AbortSignal | undefined;
  reject: boolean;
  cleanup: boolean;
  tree: TreeSettings;
  /** With `ipc`: the child's fd of the channel, its serialization and whether a cancel is
   * graceful; else null. */
  ipc: IpcSettings | null;
  /** What to log (`verbose`, `quiet` and PIDFD_VERBOSE together). */
  verbose: VerboseOption;
  /** Created halted: started by runProcess.run(). */
  halt: boolean;
  /** What `pidfd run` decides itself (set by normalizeLaunch(), launch.ts, its entry; run() never does). */
  launch?: Launch;
}

/** `ipc`, checked: the channel is the child's fd `fd` (NODE_CHANNEL_FD). */
export interface IpcSettings {
  fd: number;
  serialization: 'json' | 'advanced';
  gracefulCancel: boolean;
}

/** execa's and child_process's options that mean something else here, with what to do. */
const foreignOptions: Record<string, string> = {
  buffer: "use `stdout: 'stream'` (and `stderr`) to read the output yourself instead of capturing it",
  cancelSignal: 'use `signal`',
  detached: 'run() keeps its tree under control; for a process that outlives this one, use spawn() with `detached: true`',
  groups: 'use spawn() for `groups`',
  ipcInput: 'use `ipc: true` and runProcess.sendMessage() after run()',
  localDir: '`preferLocal` looks in node_modules/.bin of `cwd` and of its parents',
  execPath: '`node` and `preferLocal` use process.execPath',
  nodePath: '`node` uses process.execPath',
  nodeOptions: '`node` passes process.execArgv (without --inspect flags)',
  nothrow: "use `reject: false`, or `.nothrow()` on the run: `await $`…`.nothrow()`",
  windowsHide: 'run() hides the console window on Windows (the portable engine), and there is none elsewhere',
  windowsVerbatimArguments: "run() quotes each argument as Windows' C runtime splits them (Node's rules), and there is nothing to quote elsewhere",
};

const MAX_TIMER = 2 ** 31 - 1;
const DEFAULT_MAX_BUFFER = 100_000_000;
const DEFAULT_FORCE_KILL_AFTER_DELAY = 5000;

function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  return value === undefined ? fallback : validateBoolean(value, name);
}

function parsePathOption(value: unknown, name: string): string {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArgValue(name, value.href, 'must be a path or a file: URL');
    return fileURLToPath(value);
  }
  if (typeof value !== 'string') throw invalidArgType(name, value, 'a path (a string or a file: URL)');
  return validateString(value, name);
}

const stdioWords = {
  stdin: ['pipe', 'inherit', 'ignore'],
  stdout: ['pipe', 'stream', 'inherit', 'ignore'],
  stderr: ['pipe', 'stream', 'inherit', 'ignore', 'stdout'],
} as const;

function parseStdio(value: unknown, name: 'stdin' | 'stdout' | 'stderr', fallback: StdioSetting['kind']): StdioSetting {
  const words: readonly string[] = stdioWords[name];
  const expected =
    `${words.map((w) => `'${w}'`).join(', ')}, an fd number, a stream with a file descriptor, or ` +
    (name === 'stdin' ? '{ file }' : '{ file, append }');
  if (value === undefined) return { kind: fallback } as StdioSetting;
  if (typeof value === 'string') {
    if (!words.includes(value)) throw invalidArgValue(name, value, `must be ${expected}`);
    return { kind: value } as StdioSetting;
  }
  if (typeof value === 'number') return { kind: 'fd', fd: validateFd(value, name) };
  if (value === null || typeof value !== 'object') throw invalidArgType(name, value, expected);
  if ('file' in value) {
    const target = value as { file: unknown; append?: unknown };
    for (const key of Object.keys(value)) {
      if (key !== 'file' && (key !== 'append' || name === 'stdin')) {
        throw invalidArgValue(`${name}.${key}`, (value as Record<string, unknown>)[key], `is not a key of ${name}'s { file } form`);
      }
    }
    return {
      kind: 'file',
      path: parsePathOption(target.file, `${name}.file`),
      append: optionalBoolean(target.append, `${name}.append`, false),
    };
  }
  const direct = (value as { fd?: unknown }).fd;
  const viaHandle = (value as { _handle?: { fd?: unknown } | null })._handle?.fd;
  const fd = typeof direct === 'number' ? direct : viaHandle;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    const fix =
      name === 'stdin'
        ? 'give a stream without one as `input`'
        : `use \`${name}: 'stream'\` and pipe runProcess.${name} into it`;
    throw invalidArgValue(name, value, `must be ${expected}; this stream has no file descriptor (${fix})`);
  }
  return { kind: 'fd', fd: value as StreamWithFd };
}

/** stdout or stderr: one setting (parseStdio), a transform, or an array of places and
 * transforms. */
function parseOutput(value: unknown, name: 'stdout' | 'stderr'): { setting: StdioSetting; transforms: LineTransform[] } {
  if (typeof value === 'function') return { setting: { kind: 'pipe' }, transforms: [value as LineTransform] };
  if (!Array.isArray(value)) return { setting: parseStdio(value, name, 'pipe'), transforms: [] };
  if (value.length === 0) throw invalidArgValue(name, value, "must not be empty: give one place or more ('pipe', 'inherit', { file }, an fd)");
  const transforms: LineTransform[] = [];
  const targets: TeeTarget[] = [];
  let capture = false;
  value.forEach((item: unknown, i) => {
    const at = `${name}[${i}]`;
    if (typeof item === 'function') {
      transforms.push(item as LineTransform);
      return;
    }
    if (item === 'stream' || item === 'ignore' || item === 'stdout') {
      throw invalidArgValue(at, item, `cannot be one of several places: give \`${name}: '${item}'\` alone`);
    }
    if (Array.isArray(item)) throw invalidArgValue(at, item, 'must not be an array: list every place in one array');
    const setting = parseStdio(item, name, 'pipe');
    if (setting.kind === 'pipe') capture = true;
    else if (setting.kind === 'inherit') targets.push({ kind: 'inherit' });
    else if (setting.kind === 'fd' || setting.kind === 'file') targets.push(setting);
  });
  // A transform changes the lines that are captured; the kernel copies bytes to every other place.
  if (transforms.length > 0 && targets.length > 0) {
    throw invalidArgValue(
      name,
      value,
      "cannot combine a transform with 'inherit', a file or an fd: a transform changes only the captured lines, and the other places would get the bytes as written (write the transformed lines yourself)",
    );
  }
  if (targets.length === 0) return { setting: { kind: 'pipe' }, transforms };
  if (!capture && targets.length === 1) return { setting: targets[0]!, transforms };
  if (targets.length + (capture ? 1 : 0) > 16) throw invalidArgValue(name, value, 'has more than 16 places');
  return { setting: { kind: 'tee', capture, targets }, transforms };
}

function parseInput(value: unknown): RunInput | undefined {
  if (value === undefined || typeof value === 'string' || value instanceof Uint8Array) return value;
  if (value !== null && typeof value === 'object') {
    const o = value as { pipe?: unknown; [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown };
    if (typeof o.pipe === 'function' || typeof o[Symbol.asyncIterator] === 'function' || typeof o[Symbol.iterator] === 'function') {
      return value as RunInput;
    }
  }
  throw invalidArgType('input', value, 'a string, a Uint8Array, a Readable or an (async) iterable of strings or Uint8Arrays');
}

function parseForceKill(value: unknown): number {
  if (value === undefined || value === true) return DEFAULT_FORCE_KILL_AFTER_DELAY;
  if (value === false) return -1;
  const expected = `false or a number of milliseconds from 0 to ${MAX_TIMER}`;
  if (typeof value !== 'number') throw invalidArgType('forceKillAfterDelay', value, expected);
  return validateInteger(value, 'forceKillAfterDelay', 0, MAX_TIMER, { expected });
}

function parseMaxBuffer(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_BUFFER;
  const expected = 'a number of bytes: an integer from 0, or Infinity';
  if (typeof value !== 'number') throw invalidArgType('maxBuffer', value, expected);
  if (value === Infinity) return value;
  return validateInteger(value, 'maxBuffer', 0, Number.MAX_SAFE_INTEGER, { expected });
}

/** `tree`: true (the default: a cgroup where one can be made), false, or cgroup settings,
 * checked as spawn's `cgroup` settings are. */
function parseTree(value: unknown): TreeSettings {
  if (value === undefined || value === true) return { enabled: true, cgroup: parseCgroupSettings(true), required: false };
  if (value === false) return { enabled: false, cgroup: null, required: false };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType('tree', value, 'true, false, or the settings of its cgroup ({ memoryMax, pidsMax, cpuMax, parent, ... })');
  }
  return { enabled: true, cgroup: parseCgroupSettings(value, 'tree'), required: true };
}

const standardFds = ['stdin', 'stdout', 'stderr'] as const;

/**
 * The stdio[3+] entries of run() on this engine, checked without the addon (which off Linux does
 * not exist): an fd number, 'inherit' (this process's fd of that number), 'ignore' or undefined
 * (closed), or a stream with an fd. `kind` is -1: these entries go to Node's spawn as fd numbers
 * (run/portable.ts), never to the addon. parseExtraStdio() has already refused 'pipe'.
 */
function portableExtraStdio(list: readonly unknown[]): StdioEntry[] {
  const entries: StdioEntry[] = [];
  for (const key of Object.keys(list)) {
    const target = Number(key);
    if (!Number.isInteger(target) || target < 3) continue;
    const value = list[target];
    if (value === undefined || value === 'ignore') continue;
    if (value === 'inherit') {
      entries.push({ target, kind: -1, fd: target });
      continue;
    }
    if (typeof value === 'number') {
      entries.push({ target, kind: -1, fd: validateFd(value, `stdio[${target}]`) });
      continue;
    }
    const given = value as { fd?: unknown; _handle?: { fd?: unknown } | null } | null;
    const fd = typeof given === 'object' && given !== null ? (typeof given.fd === 'number' ? given.fd : given._handle?.fd) : undefined;
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
      throw invalidArgValue(`stdio[${target}]`, value, "must be 'pipe', 'inherit', 'ignore', an fd number or a stream with a file descriptor");
    }
    entries.push({ target, kind: -1, fd, stream: given! });
  }
  return entries;
}

/** `stdio`: the fds above 2, as spawn() checks them; 0-2 are given by their own options. */
function parseExtraStdio(value: unknown): StdioEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw invalidArgType('stdio', value, 'an array of the fds above 2, by index (stdio[3] is fd 3; fds 0-2 are `stdin`, `stdout` and `stderr`)');
  }
  for (let fd = 0; fd < 3 && fd < value.length; fd++) {
    if (value[fd] !== undefined) {
      throw invalidArgValue(`stdio[${fd}]`, value[fd], `must be undefined: fd ${fd} is given by \`${standardFds[fd]}\``);
    }
  }
  for (const key of Object.keys(value)) {
    if (Number(key) >= 3 && value[Number(key)] === 'pipe') {
      throw invalidArgValue(`stdio[${key}]`, 'pipe', "cannot be 'pipe': run() has no stream above fd 2 (give the fd of a pipe you made, or use spawn())");
    }
  }
  return portableEngine() ? portableExtraStdio(value) : normalizeStdio(value).filter((entry) => entry.target >= 3);
}

/** One parser per option: the compiler checks that every option of RunOptions has one. */
const parsers = {
  cwd: (value: unknown) => parseCwd(value),
  env: (value: unknown) => {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
      throw invalidArgType('env', value, 'an object of strings (a Map or another iterable is not: use Object.fromEntries())');
    }
    return value as Record<string, unknown>;
  },
  extendEnv: (value: unknown) => optionalBoolean(value, 'extendEnv', true),
  input: parseInput,
  inputFile: (value: unknown) => (value === undefined ? undefined : parsePathOption(value, 'inputFile')),
  stdin: (value: unknown) => parseStdio(value, 'stdin', 'ignore'),
  stdout: (value: unknown) => parseOutput(value, 'stdout'),
  stderr: (value: unknown) => parseOutput(value, 'stderr'),
  stdio: parseExtraStdio,
  encoding: parseEncoding,
  maxBuffer: parseMaxBuffer,
  stripFinalNewline: (value: unknown) => optionalBoolean(value, 'stripFinalNewline', true),
  lines: (value: unknown) => optionalBoolean(value, 'lines', false),
  all: (value: unknown) => optionalBoolean(value, 'all', false),
  timeout: (value: unknown) => {
    if (value === undefined) return 0;
    const expected = `a number of milliseconds from 0 (no timeout) to ${MAX_TIMER}`;
    return validateInteger(value, 'timeout', 0, MAX_TIMER, { expected });
  },
  killSignal: (value: unknown) => (value === undefined ? SIGTERM : signalNumber(value, 'killSignal')),
  forceKillAfterDelay: parseForceKill,
  signal: (value: unknown) => (value === undefined ? undefined : validateAbortSignal(value, 'signal')),
  reject: (value: unknown) => optionalBoolean(value, 'reject', true),
  preferLocal: (value: unknown) => optionalBoolean(value, 'preferLocal', false),
  node: (value: unknown) => optionalBoolean(value, 'node', false),
  ipc: (value: unknown) => optionalBoolean(value, 'ipc', false),
  serialization: (value: unknown) => {
    if (value === undefined) return 'advanced';
    if (value !== 'json' && value !== 'advanced') throw invalidArgValue('serialization', value, "must be 'json' or 'advanced'");
    return value;
  },
  gracefulCancel: (value: unknown) => optionalBoolean(value, 'gracefulCancel', false),
  shell: (value: unknown) => {
    if (value === undefined || value === false) return undefined;
    if (value === true) return '/bin/sh';
    if (typeof value !== 'string') throw invalidArgType('shell', value, 'true, false or the path of a shell');
    return validateString(value, 'shell');
  },
  argv0: (value: unknown) => (value === undefined ? undefined : validateString(value, 'argv0', { empty: true })),
  uid: (value: unknown) => parseId(value, 'uid'),
  gid: (value: unknown) => parseId(value, 'gid'),
  cleanup: (value: unknown) => optionalBoolean(value, 'cleanup', true),
  tree: parseTree,
  verbose: (value: unknown) => value,
  quiet: (value: unknown) => optionalBoolean(value, 'quiet', false),
  halt: (value: unknown) => optionalBoolean(value, 'halt', false),
} satisfies { [K in keyof Required<RunOptions>]: (value: unknown) => unknown };

const knownOptions: ReadonlySet<string> = new Set(Object.keys(parsers));

/** Node's flags for a child Node, without those that would clash with ours (a debugger port). */
function childNodeFlags(): string[] {
  return process.execArgv.filter((flag) => !/^--(inspect|debug)(-brk|-port|-wait)?(=|$)/.test(flag));
}

/** node_modules/.bin of `cwd` and of each of its parents, nearest first, then Node's own
 * directory (as npm run-scripts do). */
function localPath(cwd: string): string[] {
  const dirs: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    dirs.push(join(dir, 'node_modules', '.bin'));
    if (dirname(dir) === dir) break;
  }
  dirs.push(dirname(process.execPath));
  return dirs;
}

/** The child's environment and the PATH its program is looked up in. */
function environment(
  env: Record<string, unknown> | undefined,
  extendEnv: boolean,
  prependPath: string[] | undefined,
): { env: string[] | null; path: string | undefined } {
  if (env === undefined && extendEnv && prependPath === undefined) return { env: null, path: undefined };
  const merged: Record<string, unknown> = extendEnv ? { ...process.env, ...env } : { ...env };
  if (prependPath !== undefined) {
    const current = merged.PATH;
    merged.PATH = [...prependPath, ...(typeof current === 'string' && current !== '' ? [current] : [])].join(':');
  }
  const { envp, path } = parseEnv(merged);
  return { env: envp, path };
}

/** Checks run()'s arguments and options. Throws a TypeError or RangeError before anything. */
export function normalizeRun(file: unknown, args: unknown, options: unknown): NormalizedRun {
  const { file: theFile, args: theArgs } = parseCommand(file, args, options);
  options = scoped(options); // the defaults of within(), under these
  validateKnownOptions(options as object, knownOptions, 'run()', foreignOptions);
  const o = options as RunOptions;

  const cwd = parsers.cwd(o.cwd);
  const resolvedCwd = resolve(cwd ?? '.');
  const env = parsers.env(o.env);
  const extendEnv = parsers.extendEnv(o.extendEnv);
  const input = parsers.input(o.input);
  const inputFile = parsers.inputFile(o.inputFile);
  let stdin = parsers.stdin(o.stdin);
  const { setting: stdout, transforms: stdoutTransforms } = parsers.stdout(o.stdout);
  const { setting: stderr, transforms: stderrTransforms } = parsers.stderr(o.stderr);
  const extraStdio = parsers.stdio(o.stdio);
  if (input !== undefined || inputFile !== undefined) {
    const given = input !== undefined ? 'input' : 'inputFile';
    if (input !== undefined && inputFile !== undefined) {
      throw invalidArgValue('inputFile', o.inputFile, 'cannot be combined with `input`: give one source for stdin');
    }
    if (o.stdin !== undefined) {
      throw invalidArgValue('stdin', o.stdin, `cannot be combined with \`${given}\`, which is what the child's stdin reads`);
    }
    stdin = inputFile !== undefined ? { kind: 'file', path: inputFile, append: false } : { kind: 'pipe' };
  }
  const encoding = parsers.encoding(o.encoding);
  const lines = parsers.lines(o.lines);
  if (lines && !isTextEncoding(encoding)) {
    throw invalidArgValue(
      'lines',
      true,
      `cannot be combined with \`encoding: '${o.encoding}'\`: lines are text ('utf8', 'utf16le', 'latin1' or 'ascii'; split the bytes yourself)`,
    );
  }
  if (stdoutTransforms.length + stderrTransforms.length > 0 && !isTextEncoding(encoding)) {
    const name = stdoutTransforms.length > 0 ? 'stdout' : 'stderr';
    throw invalidArgValue(name, o[name], `cannot transform lines with \`encoding: '${o.encoding}'\`: lines are text ('utf8', 'utf16le', 'latin1' or 'ascii')`);
  }
  if (stderr.kind === 'stdout' && stdout.kind === 'stream') {
    throw invalidArgValue('stderr', 'stdout', "cannot be combined with `stdout: 'stream'`: read both with `runProcess.iterable({ from: 'all' })`");
  }
  const all = parsers.all(o.all);
  const captured = (s: StdioSetting): boolean => s.kind === 'pipe' || (s.kind === 'tee' && s.capture);
  if (all && stdoutTransforms.length + stderrTransforms.length > 0) {
    throw invalidArgValue('all', true, 'cannot be combined with a transform of stdout or stderr: `all` keeps the bytes as they arrived');
  }
  if (all && !captured(stdout) && !captured(stderr)) {
    throw invalidArgValue('all', true, "needs `stdout` or `stderr` to be captured ('pipe')");
  }
  const node = parsers.node(o.node);
  const shell = parsers.shell(o.shell);
  if (node && shell !== undefined) throw invalidArgValue('shell', o.shell, 'cannot be combined with `node`: pick one way to run `file`');

  let argv: string[];
  if (node) argv = [process.execPath, ...childNodeFlags(), theFile, ...theArgs];
  else if (shell !== undefined) argv = [shell, '-c', [theFile, ...theArgs.map(quoteForShell)].join(' ')];
  else argv = [theFile, ...theArgs];
  const program = argv[0]!;
  const shown = commandLines(argv); // the command as run, before argv0
  const argv0 = parsers.argv0(o.argv0);
  if (argv0 !== undefined) argv[0] = argv0;
  const preferLocal = parsers.preferLocal(o.preferLocal);
  const ipc = parseIpc(o, node, extraStdio);
  const channelEnv = ipc === null ? undefined : { NODE_CHANNEL_FD: ipc.fd, NODE_CHANNEL_SERIALIZATION_MODE: ipc.serialization };
  const { env: envp, path } = environment(channelEnv === undefined ? env : { ...env, ...channelEnv }, extendEnv, preferLocal ? localPath(resolvedCwd) : undefined);

  return {
    file: program,
    argv,
    ...shown,
    cwd,
    resolvedCwd,
    env: envp,
    path,
    uid: parsers.uid(o.uid),
    gid: parsers.gid(o.gid),
    extraStdio,
    stdin,
    stdout,
    stderr,
    transforms: { stdout: stdoutTransforms, stderr: stderrTransforms },
    input,
    encoding,
    maxBuffer: parsers.maxBuffer(o.maxBuffer),
    // Bytes are given as written unless asked: a final 0x0a of binary output is data.
    stripFinalNewline: parsers.stripFinalNewline(o.stripFinalNewline ?? isTextEncoding(encoding)),
    lines,
    all,
    timeout: parsers.timeout(o.timeout),
    killSignal: parsers.killSignal(o.killSignal),
    forceKillAfterDelay: parsers.forceKillAfterDelay(o.forceKillAfterDelay),
    signal: parsers.signal(o.signal),
    reject: parsers.reject(o.reject),
    cleanup: parsers.cleanup(o.cleanup),
    tree: parsers.tree(o.tree),
    ipc,
    verbose: parseVerbose(parsers.verbose(o.verbose), parsers.quiet(o.quiet)),
    halt: parsers.halt(o.halt),
  };
}

/** `ipc`, `serialization` and `gracefulCancel`, and how they combine: a channel only with a
 * Node child (`node`), at the lowest fd above 2 that `stdio[3+]` leaves free. */
function parseIpc(o: RunOptions, node: boolean, extraStdio: readonly StdioEntry[]): IpcSettings | null {
  const ipc = parsers.ipc(o.ipc);
  const serialization = parsers.serialization(o.serialization);
  const gracefulCancel = parsers.gracefulCancel(o.gracefulCancel);
  if (!ipc) {
    if (o.serialization !== undefined) throw invalidArgValue('serialization', o.serialization, 'needs `ipc: true`: it says how IPC messages are written');
    if (gracefulCancel) throw invalidArgValue('gracefulCancel', true, 'needs `ipc: true` (and `node: true`): the cancel is a message to the child');
    return null;
  }
  if (!node) {
    throw invalidArgValue('ipc', true, "needs `node: true`: the channel is Node's (NODE_CHANNEL_FD), which only a Node child opens");
  }
  if (gracefulCancel && o.signal === undefined) throw invalidArgValue('gracefulCancel', true, 'needs `signal`: its abort is what is sent to the child');
  let fd = 3;
  while (extraStdio.some((entry) => entry.target === fd)) fd++;
  return { fd, serialization, gracefulCancel };
}

/** The arguments and the options of a call in every shape it accepts: (file), (file, args),
 * (file, args, options), (file, options); `undefined` for a left-out one. */
export function runArguments(argsOrOptions: unknown, maybeOptions: unknown, call: string): [unknown, unknown] {
  if (Array.isArray(argsOrOptions) || argsOrOptions === undefined) {
    return [argsOrOptions ?? [], maybeOptions === undefined ? {} : maybeOptions];
  }
  if (argsOrOptions !== null && typeof argsOrOptions === 'object') {
    if (maybeOptions !== undefined) {
      throw invalidArgValue('options', maybeOptions, `cannot follow an options object: ${call}(file, args, options) takes args second`, 'argument');
    }
    return [[], argsOrOptions];
  }
  throw invalidArgType('args', argsOrOptions, 'an array of strings or an options object', 'argument');
}
