// The child spec: what every door (spawn(), run(), the drop-in's handle and spawnSync, the
// watchdog) builds, in one call, to start a child. Its fields are the native plan's, already
// checked in the caller's own dialect; the encoder below hands them to the addon one by one:
// the strings as arguments, the integers and the stdio triples in this environment's plan array
// (native/js_plan.h), so that the addon reads no property.

import { isMainThread } from 'node:worker_threads';

import { binding, constants, nulList, type NativeConstants, type NativeSpawnFailure, type NativeSpawnSuccess, type NativeSyncOptions, type NativeSyncResult } from '../binding.js';
import type { ParsedCgroupSettings } from '../cgroup/settings.js';
import type { StdioEntry } from './stdio.js';
import { SIGTERM } from '../signals.js';

/** A way of creating children (see support()). */
export type Backend = 'clone3' | 'clone' | 'fork';

/** Where the child starts, cgroup-wise: one choice. */
export type CgroupChoice =
  | { readonly kind: 'none' }
  /** A cgroup of its own, made (its limits written) by start() before the child. */
  | { readonly kind: 'own'; readonly settings: ParsedCgroupSettings }
  /** An existing cgroup v2 directory, by path or by an fd open on it. */
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

/** The child's own cgroup choice when there is none (one object: no allocation per spawn). */
export const noCgroup: CgroupChoice = Object.freeze({ kind: 'none' });

/** A child, every field checked. Build one with childSpec() (or a literal of every field). */
export interface ChildSpec {
  /** The program as given (looked up in `path` when it has no '/'; named in errors). */
  file: string;
  /** argv[0] included. */
  argv: string[];
  /** KEY=VALUE strings, or null for this process's environment (read natively in the main
   * thread when it is Node's own process.env). */
  env: string[] | null;
  /** The PATH that `file` is looked up in (undefined: the one of `env`, else process.env's). */
  path: string | undefined;
  cwd: string | undefined;
  /** The child's fds, targets ascending. */
  stdio: readonly StdioEntry[];
  setsid: boolean;
  /** -1: leave; 0: a new group; > 0: join that group. */
  pgid: number;
  /** -1: leave; else 0 to 4294967294. */
  uid: number;
  gid: number;
  groups: Uint32Array | null;
  /** 0: none. */
  pdeathsig: number;
  noNewPrivs: boolean;
  autoReap: boolean;
  /** With pdeathsig SIGKILL: CLONE_PIDFD_AUTOKILL where the kernel has it. */
  autoKill: boolean;
  cgroup: CgroupChoice;
  /** undefined: the current one. */
  backend: Backend | undefined;
  /** Not the plan's: the Subprocess kills its child with killSignal when this aborts. */
  abortSignal: AbortSignal | undefined;
  killSignal: number;
  /** Test hooks (src/internal/testing.ts): fault and its argument; 0 for none. */
  fault: number;
  faultArg: number;
}

/** The fields a caller must give; every other one has its default. */
export type ChildSpecFields = Pick<ChildSpec, 'file' | 'argv' | 'stdio'> & Partial<ChildSpec>;

/** A ChildSpec of `fields`, with the defaults for the others, always in one shape (V8 keeps one
 * hidden class for every spec). */
export function childSpec(f: ChildSpecFields): ChildSpec {
  return {
    file: f.file,
    argv: f.argv,
    env: f.env ?? null,
    path: f.path,
    cwd: f.cwd,
    stdio: f.stdio,
    setsid: f.setsid ?? false,
    pgid: f.pgid ?? -1,
    uid: f.uid ?? -1,
    gid: f.gid ?? -1,
    groups: f.groups ?? null,
    pdeathsig: f.pdeathsig ?? 0,
    noNewPrivs: f.noNewPrivs ?? false,
    autoReap: f.autoReap ?? false,
    autoKill: f.autoKill ?? false,
    cgroup: f.cgroup ?? noCgroup,
    backend: f.backend,
    abortSignal: f.abortSignal,
    killSignal: f.killSignal ?? SIGTERM,
    fault: f.fault ?? 0,
    faultArg: f.faultArg ?? 0,
  };
}

/**
 * Node's own process.env, when this module was loaded: an object of an internal class (its
 * prototype is not Object.prototype), whose assignments are setenv() calls. A program may replace
 * it with a plain object (`process.env = { ...process.env, X: '1' }`); that one is serialized.
 */
export const nodeEnv: object | null =
  isMainThread && Object.getPrototypeOf(process.env) !== Object.prototype ? process.env : null;

const PATH_MAX = 4096;

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

/** process.env as KEY=VALUE strings (a Worker's copy, or a replaced process.env). */
function processEnvPairs(): string[] {
  const pairs: string[] = [];
  for (const key of Object.keys(process.env)) {
    const value = process.env[key];
    if (value !== undefined) pairs.push(`${key}=${value}`);
  }
  return pairs;
}

// ---- the encoder ----

let fields: NativeConstants['planField'] | undefined;
let backends: NativeConstants['backend'] | undefined;
/** This environment's plan array (a module instance is per environment, as the array is). */
let plan: Int32Array | null = null;

/** Writes the integers and the stdio of `spec` into the plan array. */
function writePlan(spec: ChildSpec): void {
  const P = (fields ??= constants().planField);
  const stdio = spec.stdio;
  const need = P.stdio + 3 * stdio.length;
  if (plan === null || plan.length < need) plan = binding().planArray(need);
  const a = plan;
  a[P.pgid] = spec.pgid;
  // An id as its 32 bits: 4294967294 is written as -2, and -1 ((uid_t)-1) means "leave".
  a[P.uid] = spec.uid;
  a[P.gid] = spec.gid;
  a[P.pdeathsig] = spec.pdeathsig;
  a[P.setsid] = spec.setsid ? 1 : 0;
  a[P.noNewPrivs] = spec.noNewPrivs ? 1 : 0;
  a[P.autoReap] = spec.autoReap ? 1 : 0;
  a[P.autoKill] = spec.autoKill ? 1 : 0;
  a[P.cgroupFd] = spec.cgroup.kind === 'fd' ? spec.cgroup.fd : -1;
  a[P.backend] = spec.backend === undefined ? (backends ??= constants().backend).none : (backends ??= constants().backend)[spec.backend];
  a[P.fault] = spec.fault;
  a[P.faultArg] = spec.faultArg;
  a[P.nstdio] = stdio.length;
  for (let i = 0, at = P.stdio; i < stdio.length; i++, at += 3) {
    const entry = stdio[i]!;
    a[at] = entry.target;
    a[at + 1] = entry.kind;
    a[at + 2] = entry.fd;
  }
}

/** The child's environment for the addon: null for this process's `environ` as it is. */
function envOf(spec: ChildSpec): string[] | null {
  if (spec.env !== null) return spec.env;
  return process.env === nodeEnv ? null : processEnvPairs();
}

/** The execve candidates of `spec` as a NulList. */
function pathsOf(spec: ChildSpec, env: string[] | null): string {
  const file = spec.file;
  if (file.includes('/')) return `${file}\0`;
  let path = spec.path;
  if (path === undefined) path = env === null ? process.env.PATH : env.find((kv) => kv.startsWith('PATH='))?.slice(5);
  return nulList(execCandidates(file, path));
}

/** The cgroup directory the child starts in, by path: `own` is the one start() made. */
function cgroupPathOf(spec: ChildSpec, own: string | null): string | null {
  return spec.cgroup.kind === 'path' ? spec.cgroup.path : own;
}

/** Starts the child of `spec` (native/js_api.c, js_spawn). `own`: the path of the cgroup start()
 * made for it. */
export function spawnNative(spec: ChildSpec, own: string | null, watch: boolean, ref: boolean): NativeSpawnSuccess | NativeSpawnFailure {
  // The strings first: reading the environment can run code of the caller's (a replaced
  // process.env with getters), which may spawn and so rewrite this environment's plan array.
  // Nothing but the addon runs between writePlan() and its read of the array.
  const env = envOf(spec);
  const paths = pathsOf(spec, env);
  const argv = nulList(spec.argv);
  const envp = env === null ? null : nulList(env);
  const b = binding();
  writePlan(spec);
  return b.spawn(paths, argv, envp, spec.cwd ?? null, cgroupPathOf(spec, own), spec.groups, watch, ref);
}

/** Starts the child of `spec` and runs it to its end on this thread (native/sync.c). */
export function spawnSyncNative(spec: ChildSpec, sync: NativeSyncOptions): NativeSyncResult | NativeSpawnFailure {
  // As spawnNative(): the strings first, the plan array last.
  const env = envOf(spec);
  const paths = pathsOf(spec, env);
  const argv = nulList(spec.argv);
  const envp = env === null ? null : nulList(env);
  const b = binding();
  writePlan(spec);
  return b.spawnSync(paths, argv, envp, spec.cwd ?? null, cgroupPathOf(spec, null), spec.groups, sync);
}
