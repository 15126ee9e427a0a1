// Validate spawn() arguments and turn them into a ChildSpec (./spec.ts), before any system call.
//
// Each option is declared once: its type in SpawnOptions and its parser in `parsers`, which the
// compiler holds to the same keys; the list of known options is the parsers' keys, and
// normalizeSpawn() runs the parsers in the table's order (the documented order of the checks).
// A parser writes its option's fields of the spec.

import { fileURLToPath } from 'node:url';

import { describe, invalidArgType, invalidArgValue } from '../errors.js';
import { kTestFault } from '../symbols.js';
import { SIGKILL, SIGTERM, signalNumber, type Signal } from '../signals.js';
import {
  validateAbortSignal,
  validateBoolean,
  validateInteger,
  validateKnownOptions,
  validateObject,
  validateOneOf,
  validateString,
} from '../validate.js';
import { parseCgroupSettings, type CgroupSettings } from '../cgroup/settings.js';
import { childSpec, noCgroup, nodeEnv, type Backend, type CgroupChoice, type ChildSpec } from './spec.js';
import { normalizeStdio, type StdioEntry, type StdioOptions } from './stdio.js';

export type { Backend } from './spec.js';

/** Options of spawn(). Every option is checked before anything is created. */
export interface SpawnOptions {
  /** The child's working directory (default: the parent's). */
  cwd?: string | URL;
  /** The child's environment (default: process.env). Its PATH is the one searched. */
  env?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** argv[0] as the child sees it (default: the file as given). */
  argv0?: string;
  /** Where fds 0, 1, 2 (and more: the array index is the child fd) come from. Default 'pipe'. */
  stdio?: StdioOptions;
  /** Start a new session (setsid): no controlling terminal, own process group. */
  detached?: boolean;
  /** true or 0: a new process group led by the child; a pgid: join that group. */
  processGroup?: boolean | number;
  /** Run as this user id (setuid). */
  uid?: number;
  /** Run as this group id (setgid). */
  gid?: number;
  /** Supplementary groups (setgroups). When uid or gid is set without it, they are dropped. */
  groups?: readonly number[];
  /**
   * Kill the child when this process dies. SIGKILL (true) on Linux 7.1+ with CAP_SYS_ADMIN or
   * `noNewPrivileges`: the kernel kills it when the last copy of its pidfd closes
   * (CLONE_PIDFD_AUTOKILL; it is then also auto-reaped, see `autoReap`). Elsewhere, and for any
   * other signal: the signal is sent when the spawning thread exits (PR_SET_PDEATHSIG).
   */
  killOnParentExit?: boolean | Signal;
  /** The child and what it runs can never gain privileges through execve (setuid and setgid
   * programs, file capabilities): no_new_privs, through CLONE_NNP on Linux 7.1+, else prctl. */
  noNewPrivileges?: boolean;
  /**
   * Let the kernel reap the child (CLONE_AUTOREAP, Linux 7.1+): no waitpid(-1) anywhere in this
   * process can take its exit status, which then comes from PIDFD_INFO_EXIT, without rusage
   * (`exitStatus.rusage` is null). Ignored where the kernel lacks it (see support()).
   */
  autoReap?: boolean;
  /**
   * true or settings: a cgroup of its own for this child and everything it starts (created,
   * limited, watched and removed by the library: `subprocess.cgroup`). A path or an fd: start
   * the child inside that existing cgroup v2 directory.
   */
  cgroup?: true | CgroupSettings | string | number;
  /** Abort the child: when the signal aborts, the child gets `killSignal`. */
  signal?: AbortSignal;
  /** The signal sent on abort (default 'SIGTERM'). */
  killSignal?: Signal;
  /** How to create this child: 'clone3', 'clone' or 'fork' (default: the best that works here;
   * see support()). */
  backend?: Backend;
}

const backends: readonly Backend[] = ['clone3', 'clone', 'fork'];

/** Options of child_process that mean something else here, with what to do instead. */
const foreignOptions: Record<string, string> = {
  shell: "pidfd never runs a shell for you; spawn('/bin/sh', ['-c', command]) says so explicitly",
  timeout: 'use the `signal` option with AbortSignal.timeout(ms)',
  windowsHide: 'pidfd runs only on Linux',
  windowsVerbatimArguments: 'pidfd runs only on Linux',
  serialization: 'pidfd has no IPC channel',
  encoding: 'spawn() gives streams; decode them with setEncoding()',
};

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to the kernel
const NGROUPS_MAX = 65536;

/** A user or group id, -1 for none: what the `uid` and `gid` options take (spawn() and run()). */
export function parseId(value: unknown, name: string): number {
  return value === undefined ? -1 : validateInteger(value, name, 0, MAX_ID);
}

export function parseCwd(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArgValue('cwd', value.href, 'must be a path or a file: URL');
    return validateString(fileURLToPath(value), 'cwd');
  }
  return validateString(value, 'cwd');
}

/**
 * The child's environment as KEY=VALUE strings, and the PATH that spawn searches. envp is null
 * for "this process's environment": in the main thread Node's process.env is the C `environ`,
 * which the addon reads directly (a Worker's process.env is its own copy, and a replaced
 * process.env is a plain object: both are serialized). With `file`, the PATH of this process's
 * environment is read only if `file` is looked up in it (has no '/').
 */
export function parseEnv(env: unknown, file?: string): { envp: string[] | null; path: string | undefined } {
  // A file with a '/' is not looked up: its PATH is not read (a getenv through Node's
  // environment interceptor on every spawn).
  if (env === undefined && process.env === nodeEnv) return { envp: null, path: file?.includes('/') ? undefined : process.env.PATH };
  const source = env === undefined ? process.env : env;
  if (source === null || typeof source !== 'object') throw invalidArgType('env', env, 'an object of strings');
  if (Array.isArray(source) || typeof (source as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    throw invalidArgType('env', env, 'an object of strings (a Map or another iterable is not: use Object.fromEntries())');
  }
  const envp: string[] = [];
  let path: string | undefined;
  // Object.keys gives the same own enumerable keys as for-in + hasOwnProperty, but on
  // process.env (in a Worker) each hasOwnProperty is one more trip through Node's environment
  // interceptor (getenv under a lock): this loop was most of a spawn's JavaScript cost
  // (docs/benchmarks.md).
  for (const key of Object.keys(source)) {
    const raw = (source as Record<string, unknown>)[key];
    if (raw === undefined) continue;
    if (key.length === 0 || key.includes('=')) {
      throw invalidArgValue('env', key, "has a key that is empty or contains '=': a variable name must be non-empty and cannot contain '='");
    }
    // Only a key with a NUL fails here: the option name (a describe() per key) is built then.
    if (key.includes('\0')) validateString(key, `env key ${describe(key)}`);
    if (typeof raw === 'object' || typeof raw === 'function' || typeof raw === 'symbol') {
      throw invalidArgType(`env.${key}`, raw, 'a string (or a number or boolean)');
    }
    const value = validateString(String(raw), `env.${key}`, { empty: true });
    if (key === 'PATH') path = value;
    envp.push(`${key}=${value}`);
  }
  return { envp, path };
}

function parseProcessGroup(value: unknown): number {
  if (value === undefined || value === false) return -1;
  if (value === true) return 0;
  const expected = 'true (a new group led by the child) or the id of an existing process group';
  if (typeof value !== 'number') throw invalidArgType('processGroup', value, expected);
  return validateInteger(value, 'processGroup', 0, 0x7fffffff, { expected });
}

function parseGroups(value: unknown): Uint32Array | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw invalidArgType('groups', value, 'an array of group ids');
  if (value.length > NGROUPS_MAX) throw invalidArgValue('groups', value, `must have at most ${NGROUPS_MAX} group ids`);
  return Uint32Array.from(value, (gid, i) => parseId(gid, `groups[${i}]`));
}

/** An object literal (or one without a prototype): what settings are; not an array, a URL, a Date. */
function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function parseCgroup(value: unknown): CgroupChoice {
  if (value === undefined || value === false) return noCgroup;
  const expected = 'true or cgroup settings (a cgroup of its own), or an existing cgroup v2 directory path or an fd open on one';
  if (value === true || isPlainObject(value)) return { kind: 'own', settings: parseCgroupSettings(value as true | object) };
  if (typeof value === 'number') return { kind: 'fd', fd: validateInteger(value, 'cgroup', 0, 0x7fffffff, { expected }) };
  if (typeof value !== 'string') throw invalidArgType('cgroup', value, expected);
  return { kind: 'path', path: validateString(value, 'cgroup') };
}

function parsePdeathsig(value: unknown): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return SIGKILL;
  return signalNumber(value, 'killOnParentExit');
}

const processGroupWithDetached =
  'cannot be combined with `detached`: a detached child already leads its own session and process group';

/**
 * One parser per option, in the documented order of the checks (the first bad option is the one
 * named): each checks its value and writes its fields of the spec. The compiler checks that
 * every option of SpawnOptions has one.
 */
const parsers = {
  argv0: (value: unknown, spec: ChildSpec) => {
    if (value !== undefined) spec.argv[0] = validateString(value, 'argv0', { empty: true });
  },
  cwd: (value: unknown, spec: ChildSpec) => {
    spec.cwd = parseCwd(value);
  },
  env: (value: unknown, spec: ChildSpec) => {
    const { envp, path } = parseEnv(value, spec.file);
    spec.env = envp;
    spec.path = path;
  },
  stdio: (value: unknown, spec: ChildSpec) => {
    spec.stdio = normalizeStdio(value);
  },
  detached: (value: unknown, spec: ChildSpec) => {
    spec.setsid = value === undefined ? false : validateBoolean(value, 'detached');
  },
  processGroup: (value: unknown, spec: ChildSpec) => {
    spec.pgid = parseProcessGroup(value);
    if (spec.setsid && spec.pgid >= 0) throw invalidArgValue('processGroup', value, processGroupWithDetached);
  },
  uid: (value: unknown, spec: ChildSpec) => {
    spec.uid = parseId(value, 'uid');
  },
  gid: (value: unknown, spec: ChildSpec) => {
    spec.gid = parseId(value, 'gid');
  },
  groups: (value: unknown, spec: ChildSpec) => {
    spec.groups = parseGroups(value);
  },
  killOnParentExit: (value: unknown, spec: ChildSpec) => {
    spec.pdeathsig = parsePdeathsig(value);
    spec.autoKill = spec.pdeathsig === SIGKILL;
  },
  noNewPrivileges: (value: unknown, spec: ChildSpec) => {
    spec.noNewPrivs = value === undefined ? false : validateBoolean(value, 'noNewPrivileges');
  },
  autoReap: (value: unknown, spec: ChildSpec) => {
    spec.autoReap = value === undefined ? false : validateBoolean(value, 'autoReap');
  },
  cgroup: (value: unknown, spec: ChildSpec) => {
    spec.cgroup = parseCgroup(value);
  },
  signal: (value: unknown, spec: ChildSpec) => {
    spec.abortSignal = value === undefined ? undefined : validateAbortSignal(value, 'signal');
  },
  killSignal: (value: unknown, spec: ChildSpec) => {
    spec.killSignal = value === undefined ? SIGTERM : signalNumber(value, 'killSignal');
  },
  backend: (value: unknown, spec: ChildSpec) => {
    spec.backend = value === undefined ? undefined : validateOneOf(value, 'backend', backends);
  },
} satisfies { [K in keyof Required<SpawnOptions>]: (value: unknown, spec: ChildSpec) => void };

const optionNames = Object.keys(parsers) as (keyof typeof parsers)[];
const knownOptions: ReadonlySet<string> = new Set(optionNames);

/** validateString's options for an element of args. */
const anArgument = { empty: true, what: 'argument' } as const;

/**
 * The `file` and `args` arguments of a call that starts a program (spawn(), run()), checked
 * the same way for each; `options` must be an object.
 */
export function parseCommand(file: unknown, args: unknown, options: unknown): { file: string; args: string[] } {
  if (file === undefined || file === '') {
    throw invalidArgValue('file', file, 'must name a program (no program given): its path, or a name to look up in PATH', 'argument');
  }
  const theFile = validateString(file, 'file', { what: 'argument' });
  if (!Array.isArray(args)) throw invalidArgType('args', args, 'an array of strings', 'argument');
  const theArgs = args.map((arg, i) => validateString(arg, `args[${i}]`, anArgument));
  validateObject(options, 'options');
  return { file: theFile, args: theArgs };
}

/** The stdio entries of 'pipe', 'ignore' and 'inherit' for fds 0-2, made once (frozen: a spec's
 * stdio is never changed), for the fast path. */
let commonStdio: Record<'pipe' | 'ignore' | 'inherit', readonly StdioEntry[]> | undefined;

function stdioOf(value: unknown): readonly StdioEntry[] | undefined {
  commonStdio ??= {
    pipe: Object.freeze(normalizeStdio('pipe').map((e) => Object.freeze(e))),
    ignore: Object.freeze(normalizeStdio('ignore').map((e) => Object.freeze(e))),
    inherit: Object.freeze(normalizeStdio('inherit').map((e) => Object.freeze(e))),
  };
  return value === undefined ? commonStdio.pipe : value === 'pipe' || value === 'ignore' || value === 'inherit' ? commonStdio[value] : undefined;
}

/**
 * The common call, without the general path's checks that it cannot fail: a file with a '/'
 * (no PATH lookup), string arguments, Node's own process.env, and options with nothing but
 * `stdio` as one word. null for any other call, which the general path checks (and refuses
 * with its errors, in its order).
 */
function commonSpawn(file: unknown, args: unknown, options: unknown): ChildSpec | null {
  if (typeof file !== 'string' || !file.includes('/') || file.includes('\0') || !Array.isArray(args)) return null;
  if (options === null || typeof options !== 'object' || Array.isArray(options) || process.env !== nodeEnv) return null;
  for (const key in options) if (key !== 'stdio') return null;
  if ((options as { [kTestFault]?: unknown })[kTestFault] !== undefined) return null;
  const stdio = stdioOf((options as SpawnOptions).stdio);
  if (stdio === undefined) return null;
  const argv: string[] = [file];
  for (let i = 0; i < args.length; i++) {
    const arg: unknown = args[i];
    if (typeof arg !== 'string' || arg.includes('\0')) return null;
    argv.push(arg);
  }
  return childSpec({ file, argv, stdio });
}

/** Checks spawn()'s arguments and builds the child's spec. Throws before any system call. */
export function normalizeSpawn(file: unknown, args: unknown, options: unknown): ChildSpec {
  const common = commonSpawn(file, args, options);
  if (common !== null) return common;
  const { file: theFile, args: theArgs } = parseCommand(file, args, options);
  validateKnownOptions(options as object, knownOptions, 'spawn()', foreignOptions);
  const o = options as Record<string, unknown>;
  const spec = childSpec({ file: theFile, argv: [theFile, ...theArgs], stdio: [] });
  for (const name of optionNames) parsers[name](o[name], spec);
  const hook = (o as { [kTestFault]?: { kind: number; arg?: number } })[kTestFault];
  if (hook !== undefined) {
    spec.fault = hook.kind;
    spec.faultArg = hook.arg ?? 0;
  }
  return spec;
}
