// Validate spawn() arguments and turn them into the native plan, before any system call.
//
// Each option is declared once: its type in SpawnOptions and its parser in `parsers`, which the
// compiler holds to the same keys; the list of known options is the parsers' keys.

import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

import { constants, nulList, type NativeSpawnPlan } from '../binding.js';
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
import { parseCgroupSettings, type CgroupSettings, type ParsedCgroupSettings } from '../cgroup/settings.js';
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

/** A way of creating children (see support()). */
export type Backend = 'clone3' | 'clone' | 'fork';
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
const PATH_MAX = 4096;

function parseId(value: unknown, name: string): number {
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
 * Node's own process.env, when this module was loaded: an object of an internal class (its
 * prototype is not Object.prototype), whose assignments are setenv() calls. A program may replace
 * it with a plain object (`process.env = { ...process.env, X: '1' }`); that one is serialized.
 */
const nodeEnv: object | null = isMainThread && Object.getPrototypeOf(process.env) !== Object.prototype ? process.env : null;

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

function parseCgroup(value: unknown): { path: string | null; fd: number; run: ParsedCgroupSettings | null } {
  if (value === undefined || value === false) return { path: null, fd: -1, run: null };
  const expected = 'true or cgroup settings (a cgroup of its own), or an existing cgroup v2 directory path or an fd open on one';
  if (value === true || isPlainObject(value)) return { path: null, fd: -1, run: parseCgroupSettings(value as true | object) };
  if (typeof value === 'number') return { path: null, fd: validateInteger(value, 'cgroup', 0, 0x7fffffff, { expected }), run: null };
  if (typeof value !== 'string') throw invalidArgType('cgroup', value, expected);
  return { path: validateString(value, 'cgroup'), fd: -1, run: null };
}

function parsePdeathsig(value: unknown): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return SIGKILL;
  return signalNumber(value, 'killOnParentExit');
}

/** One parser per option: the compiler checks that every option of SpawnOptions has one. */
const parsers = {
  cwd: parseCwd,
  env: (value: unknown) => value,
  argv0: (value: unknown) => (value === undefined ? undefined : validateString(value, 'argv0', { empty: true })),
  stdio: normalizeStdio,
  detached: (value: unknown) => (value === undefined ? false : validateBoolean(value, 'detached')),
  processGroup: parseProcessGroup,
  uid: (value: unknown) => parseId(value, 'uid'),
  gid: (value: unknown) => parseId(value, 'gid'),
  groups: parseGroups,
  killOnParentExit: parsePdeathsig,
  noNewPrivileges: (value: unknown) => (value === undefined ? false : validateBoolean(value, 'noNewPrivileges')),
  autoReap: (value: unknown) => (value === undefined ? false : validateBoolean(value, 'autoReap')),
  cgroup: parseCgroup,
  signal: (value: unknown) => (value === undefined ? undefined : validateAbortSignal(value, 'signal')),
  killSignal: (value: unknown) => (value === undefined ? SIGTERM : signalNumber(value, 'killSignal')),
  backend: (value: unknown) => (value === undefined ? undefined : validateOneOf(value, 'backend', backends)),
} satisfies { [K in keyof Required<SpawnOptions>]: (value: unknown) => unknown };

const knownOptions: ReadonlySet<string> = new Set(Object.keys(parsers));

/** The plan for the addon (watching is the caller's choice: start()'s), plus what the layers
 * above need to know. */
export interface NormalizedSpawn {
  file: string;
  argv: string[];
  plan: NativeSpawnPlan;
  stdio: StdioEntry[];
  /** The cgroup as given, for error messages. */
  cgroup: string | number | undefined;
  cwd: string | undefined;
  abortSignal: AbortSignal | undefined;
  killSignal: number;
  /** The backend the call asked for, if it did. */
  backend: Backend | undefined;
  /** A per-run cgroup to create for the child, or null. */
  runCgroup: ParsedCgroupSettings | null;
}

/**
 * A child as the layers above describe it, every value already checked in that layer's own
 * dialect (spawn()'s options, child_process's, run()'s): what buildPlan() turns into the native
 * plan. Only `file`, `argv` and `stdio` are required.
 */
export interface ChildSpec {
  file: string;
  /** argv[0] included. */
  argv: string[];
  /** KEY=VALUE strings, or null for this process's environment (read natively in the main
   * thread when it is Node's own process.env: see parseEnv). */
  env?: string[] | null;
  /** The PATH that `file` is looked up in (default: the one of `env`, else process.env's). */
  path?: string | undefined;
  cwd?: string | undefined;
  stdio: StdioEntry[];
  setsid?: boolean;
  /** -1: leave; 0: a new group; > 0: join that group. */
  pgid?: number;
  /** -1: leave. */
  uid?: number;
  gid?: number;
  groups?: Uint32Array | null;
  /** 0: none. */
  pdeathsig?: number;
  noNewPrivs?: boolean;
  autoReap?: boolean;
  /** With pdeathsig SIGKILL: CLONE_PIDFD_AUTOKILL where the kernel has it (killOnParentExit). */
  autoKill?: boolean;
  cgroup?: { path: string | null; fd: number; run?: ParsedCgroupSettings | null; given: unknown };
  abortSignal?: AbortSignal | undefined;
  killSignal?: number;
  backend?: Backend | undefined;
  /** Test hooks' plan fields (src/internal/testing.ts). */
  testHooks?: { fault: number; faultArg: number } | undefined;
}

/** The native plan of a child. Throws nothing: the values were checked by the caller. */
export function buildPlan(spec: ChildSpec): NormalizedSpawn {
  let envp = spec.env ?? null;
  let path = spec.path;
  if (envp === null && process.env !== nodeEnv) envp = parseEnv(undefined).envp;
  // Only a file without a '/' is looked up in PATH (execCandidates).
  if (path === undefined && !spec.file.includes('/')) {
    path = envp === null ? process.env.PATH : envp.find((kv) => kv.startsWith('PATH='))?.slice(5);
  }
  const paths = execCandidates(spec.file, path);
  const stdio = spec.stdio;
  const triples = new Int32Array(stdio.length * 3);
  for (let i = 0; i < stdio.length; i++) {
    triples[3 * i] = stdio[i]!.target;
    triples[3 * i + 1] = stdio[i]!.kind;
    triples[3 * i + 2] = stdio[i]!.fd;
  }
  const table = constants().backend;
  const n: NormalizedSpawn = {
    file: spec.file,
    argv: spec.argv,
    stdio,
    cgroup: typeof spec.cgroup?.given === 'string' || typeof spec.cgroup?.given === 'number' ? spec.cgroup.given : undefined,
    runCgroup: spec.cgroup?.run ?? null,
    cwd: spec.cwd,
    abortSignal: spec.abortSignal,
    killSignal: spec.killSignal ?? SIGTERM,
    backend: spec.backend,
    plan: {
      paths: nulList(paths),
      argv: nulList(spec.argv),
      env: envp === null ? null : nulList(envp),
      cwd: spec.cwd ?? null,
      stdio: triples,
      setsid: spec.setsid ?? false,
      pgid: spec.pgid ?? -1,
      uid: spec.uid ?? -1,
      gid: spec.gid ?? -1,
      groups: spec.groups ?? null,
      pdeathsig: spec.pdeathsig ?? 0,
      noNewPrivs: spec.noNewPrivs === true ? 1 : 0,
      autoReap: spec.autoReap === true ? 1 : 0,
      autoKill: spec.autoKill === true ? 1 : 0,
      cgroupFd: spec.cgroup?.fd ?? -1,
      cgroupPath: spec.cgroup?.path ?? null,
      backend: spec.backend === undefined ? table.none : table[spec.backend],
    },
  };
  // Only a test's plan carries the hooks: every other plan keeps one shape (no spread), which
  // V8 does not have to rebuild on each spawn.
  if (spec.testHooks !== undefined) n.plan = { ...n.plan, ...spec.testHooks };
  return n;
}

/** The test hooks' plan fields (src/internal/testing.ts), when a test asked for a fault. */
function testHooks(options: object): { fault: number; faultArg: number } | undefined {
  const hook = (options as { [kTestFault]?: { kind: number; arg?: number } })[kTestFault];
  return hook === undefined ? undefined : { fault: hook.kind, faultArg: hook.arg ?? 0 };
}

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

/** The cgroup of a ChildSpec, built field by field (a spread would cost a new hidden class per
 * spawn). */
function cgroupSpec(parsed: ReturnType<typeof parseCgroup>, given: unknown): NonNullable<ChildSpec['cgroup']> {
  return { path: parsed.path, fd: parsed.fd, run: parsed.run, given };
}

/** Checks spawn()'s arguments and builds the native plan. Throws before any system call. */
export function normalizeSpawn(file: unknown, args: unknown, options: unknown): NormalizedSpawn {
  const { file: theFile, args: theArgs } = parseCommand(file, args, options);
  validateKnownOptions(options as object, knownOptions, 'spawn()', foreignOptions);
  const o = options as SpawnOptions;

  // The order of the checks is the order of SpawnOptions: the first bad option is the one named.
  const argv0 = parsers.argv0(o.argv0);
  const cwd = parsers.cwd(o.cwd);
  const { envp, path } = parseEnv(o.env, theFile);
  const stdio = parsers.stdio(o.stdio);
  const setsid = parsers.detached(o.detached);
  const pgid = parsers.processGroup(o.processGroup);
  if (setsid && pgid >= 0) {
    throw invalidArgValue(
      'processGroup',
      o.processGroup,
      'cannot be combined with `detached`: a detached child already leads its own session and process group',
    );
  }
  // In the documented order of validation (uid, gid and groups before killOnParentExit).
  const uid = parsers.uid(o.uid);
  const gid = parsers.gid(o.gid);
  const groups = parsers.groups(o.groups);
  const pdeathsig = parsers.killOnParentExit(o.killOnParentExit);
  return buildPlan({
    file: theFile,
    argv: [argv0 ?? theFile, ...theArgs],
    env: envp,
    path,
    cwd,
    stdio,
    setsid,
    pgid,
    uid,
    gid,
    groups,
    pdeathsig,
    autoKill: pdeathsig === SIGKILL,
    noNewPrivs: parsers.noNewPrivileges(o.noNewPrivileges),
    autoReap: parsers.autoReap(o.autoReap),
    cgroup: cgroupSpec(parsers.cgroup(o.cgroup), o.cgroup),
    abortSignal: parsers.signal(o.signal),
    killSignal: parsers.killSignal(o.killSignal),
    backend: parsers.backend(o.backend),
    testHooks: testHooks(o),
  });
}
