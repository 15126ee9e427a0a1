// Validate spawn() arguments and turn them into the native plan, before any system call.

import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

import { Fault, type NativeSpawnPlan } from '../binding.js';
import { describe, invalidArg } from '../errors.js';
import { kTestFault } from '../internal/symbols.js';
import { signalNumber, type Signal } from '../signals.js';
import { normalizeStdio, type StdioEntry, type StdioOptions } from './stdio.js';

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
  /** Send this signal (true: SIGKILL) to the child when the spawning thread exits. */
  killOnParentExit?: boolean | Signal;
  /** Start the child inside this cgroup v2 directory (a path, or an fd open on it). */
  cgroup?: string | number;
  /** Abort the child: when the signal aborts, the child gets `killSignal`. */
  signal?: AbortSignal;
  /** The signal sent on abort (default 'SIGTERM'). */
  killSignal?: Signal;
}

const knownOptions = new Set([
  'cwd',
  'env',
  'argv0',
  'stdio',
  'detached',
  'processGroup',
  'uid',
  'gid',
  'groups',
  'killOnParentExit',
  'cgroup',
  'signal',
  'killSignal',
]);

/** Options of child_process that mean something else here, with what to do instead. */
const foreignOptions: Record<string, string> = {
  shell: "pidfd never runs a shell for you; spawn('/bin/sh', ['-c', command]) says so explicitly",
  timeout: 'use the `signal` option with AbortSignal.timeout(ms)',
  windowsHide: 'pidfd runs only on Linux',
  windowsVerbatimArguments: 'pidfd runs only on Linux',
  serialization: 'pidfd has no IPC channel',
  encoding: 'spawn() gives streams; decode them with setEncoding()',
};

/** The plan for the addon, plus what the Subprocess needs to know. */
export interface NormalizedSpawn {
  file: string;
  argv: string[];
  plan: Omit<NativeSpawnPlan, 'ref'>;
  stdio: StdioEntry[];
  /** The cgroup as given, for error messages. */
  cgroup: string | number | undefined;
  cwd: string | undefined;
  abortSignal: AbortSignal | undefined;
  killSignal: number;
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to the kernel
const NGROUPS_MAX = 65536;
const PATH_MAX = 4096;

function checkString(value: unknown, name: string, { empty = false } = {}): string {
  if (typeof value !== 'string') throw invalidArg('type', name, value, 'a string');
  if (!empty && value.length === 0) throw invalidArg('type', name, value, 'a non-empty string');
  if (value.includes('\0')) {
    throw Object.assign(
      new TypeError(
        `The \`${name}\` option must not contain NUL bytes (the kernel would cut the string ` +
          `there); got ${describe(value)}`,
      ),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
  return value;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidArg('type', name, value, 'a boolean');
  return value;
}

function checkId(value: unknown, name: string): number {
  if (value === undefined) return -1;
  if (typeof value !== 'number') throw invalidArg('type', name, value, `an integer from 0 to ${MAX_ID}`);
  if (!Number.isInteger(value) || value < 0 || value > MAX_ID) {
    throw invalidArg('range', name, value, `an integer from 0 to ${MAX_ID}`);
  }
  return value;
}

function checkCwd(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArg('type', 'cwd', value.href, 'a path or a file: URL');
    return checkString(fileURLToPath(value), 'cwd');
  }
  return checkString(value, 'cwd');
}

/**
 * The child's environment as KEY=VALUE strings, and the PATH that spawn searches. envp is null
 * for "this process's environment": in the main thread process.env is the C `environ`, which the
 * addon reads directly (a Worker's process.env is its own copy, so it is serialized).
 */
function serializeEnv(env: unknown): { envp: string[] | null; path: string | undefined } {
  if (env === undefined && isMainThread) return { envp: null, path: process.env.PATH };
  const source = env === undefined ? process.env : env;
  if (source === null || typeof source !== 'object') {
    throw invalidArg('type', 'env', env, 'an object of strings');
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
      throw Object.assign(
        new TypeError(
          `The \`env\` option has the key ${describe(key)}: a variable name must be non-empty ` +
            `and cannot contain '='`,
        ),
        { code: 'ERR_INVALID_ARG_VALUE' },
      );
    }
    // Only a key with a NUL fails here: the option name (a describe() per key) is built then.
    if (key.includes('\0')) checkString(key, `env key ${describe(key)}`);
    if (typeof raw === 'object' || typeof raw === 'function' || typeof raw === 'symbol') {
      throw invalidArg('type', `env.${key}`, raw, 'a string (or a number or boolean)');
    }
    const value = checkString(String(raw), `env.${key}`, { empty: true });
    if (key === 'PATH') path = value;
    envp.push(`${key}=${value}`);
  }
  return { envp, path };
}

/** The paths execve tries, in execvp's order: the file itself if it has a '/', else each PATH
 * entry (an empty entry is the working directory). glibc's default PATH when none is set. */
export function execCandidates(file: string, path: string | undefined): string[] {
  if (file.includes('/')) return [file];
  const candidates: string[] = [];
  for (const dir of (path ?? '/bin:/usr/bin').split(':')) {
    const candidate = dir === '' ? file : dir.endsWith('/') ? dir + file : `${dir}/${file}`;
    if (Buffer.byteLength(candidate) < PATH_MAX) candidates.push(candidate);
  }
  return candidates.length > 0 ? candidates : [file];
}

function checkProcessGroup(value: unknown): number {
  if (value === undefined || value === false) return -1;
  if (value === true) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0x7fffffff) {
    return value;
  }
  throw invalidArg(
    typeof value === 'number' ? 'range' : 'type',
    'processGroup',
    value,
    'true (a new group led by the child) or the id of an existing process group',
  );
}

function checkGroups(value: unknown): Uint32Array | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw invalidArg('type', 'groups', value, 'an array of group ids');
  if (value.length > NGROUPS_MAX) {
    throw invalidArg('range', 'groups', value, `at most ${NGROUPS_MAX} group ids`);
  }
  return Uint32Array.from(value, (gid, i) => checkId(gid, `groups[${i}]`));
}

function checkCgroup(value: unknown): { path: string | null; fd: number } {
  if (value === undefined) return { path: null, fd: -1 };
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
      throw invalidArg('range', 'cgroup', value, 'a cgroup v2 directory path or an fd open on one');
    }
    return { path: null, fd: value };
  }
  return { path: checkString(value, 'cgroup'), fd: -1 };
}

function checkAbortSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as AbortSignal).aborted !== 'boolean' ||
    typeof (value as AbortSignal).addEventListener !== 'function'
  ) {
    throw invalidArg('type', 'signal', value, 'an AbortSignal');
  }
  return value as AbortSignal;
}

function checkFault(value: unknown): { kind: number; arg: number } {
  if (value === undefined) return { kind: Fault.none, arg: 0 };
  const { kind, arg = 0 } = value as { kind: number; arg?: number };
  return { kind, arg };
}

function checkUnknownOptions(options: object): void {
  for (const key of Object.keys(options)) {
    if (knownOptions.has(key)) continue;
    const hint = foreignOptions[key];
    throw Object.assign(
      new TypeError(
        hint === undefined
          ? `Unknown spawn() option \`${key}\`; the options are ${[...knownOptions].join(', ')}`
          : `The spawn() option \`${key}\` is not supported: ${hint}`,
      ),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
}

/** Checks spawn()'s arguments and builds the native plan. Throws before any system call. */
export function normalizeSpawn(file: unknown, args: unknown, options: unknown): NormalizedSpawn {
  if (file === undefined || file === '') {
    throw Object.assign(
      new TypeError('spawn(file): no program given; pass its path or a name to look up in PATH'),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
  checkString(file, 'file');
  const theFile = file as string;
  if (!Array.isArray(args)) throw invalidArg('type', 'args', args, 'an array of strings');
  const theArgs = args.map((arg, i) => checkString(arg, `args[${i}]`, { empty: true }));
  if (options === null || typeof options !== 'object') {
    throw invalidArg('type', 'options', options, 'an object');
  }
  checkUnknownOptions(options);
  const o = options as SpawnOptions & { [kTestFault]?: unknown };

  const argv0 = o.argv0 === undefined ? theFile : checkString(o.argv0, 'argv0', { empty: true });
  const cwd = checkCwd(o.cwd);
  const { envp, path } = serializeEnv(o.env);
  const paths = execCandidates(theFile, path);
  const stdio = normalizeStdio(o.stdio);
  const detached = checkBoolean(o.detached, 'detached');
  const pgid = checkProcessGroup(o.processGroup);
  if (detached && pgid >= 0) {
    throw Object.assign(
      new TypeError(
        'The `detached` and `processGroup` options cannot be combined: a detached child already ' +
          'leads its own session and process group',
      ),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
  const uid = checkId(o.uid, 'uid');
  const gid = checkId(o.gid, 'gid');
  const groups = checkGroups(o.groups);
  const pdeathsig =
    o.killOnParentExit === undefined || o.killOnParentExit === false
      ? 0
      : o.killOnParentExit === true
        ? 9
        : signalNumber(o.killOnParentExit, 'killOnParentExit');
  const cgroup = checkCgroup(o.cgroup);
  const abortSignal = checkAbortSignal(o.signal);
  const killSignal = o.killSignal === undefined ? 15 : signalNumber(o.killSignal, 'killSignal');
  const fault = checkFault(o[kTestFault]);

  const argv = [argv0, ...theArgs];
  const strings = envp === null ? [...paths, ...argv] : [...paths, ...argv, ...envp];
  if (cwd !== undefined) strings.push(cwd);
  const triples = new Int32Array(stdio.length * 3);
  stdio.forEach((entry, i) => {
    triples[3 * i] = entry.target;
    triples[3 * i + 1] = entry.kind;
    triples[3 * i + 2] = entry.fd;
  });

  return {
    file: theFile,
    argv,
    stdio,
    cgroup: o.cgroup,
    cwd,
    abortSignal,
    killSignal,
    plan: {
      strings: strings.join('\0'),
      npaths: paths.length,
      nargv: argv.length,
      nenv: envp === null ? -1 : envp.length,
      hasCwd: cwd !== undefined,
      stdio: triples,
      setsid: detached,
      pgid,
      uid,
      gid,
      groups,
      pdeathsig,
      cgroupFd: cgroup.fd,
      cgroupPath: cgroup.path,
      fault: fault.kind,
      faultArg: fault.arg,
    },
  };
}
