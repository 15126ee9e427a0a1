// The drop-in's child spec: what Node's ChildProcess.prototype.spawn() (through the handle) and
// spawnSync() resolved, read the way process_wrap and spawn_sync read it, as one ChildSpec.

import { constants } from '../binding.js';
import { childSpec, type ChildSpec } from '../process/spec.js';
import type { StdioEntry } from '../process/stdio.js';
import { envPairsOf } from './normalize.js';

/** One child fd as Node's getValidStdio() describes it. */
export interface NodeStdio {
  type: 'pipe' | 'overlapped' | 'ignore' | 'inherit' | 'fd' | 'wrap' | string;
  fd?: number;
  /** For pipe/overlapped/ipc: an unopened Pipe; for wrap: the stream's handle. */
  handle?: { open?(fd: number): number | undefined; fd?: number; close?(): void };
  ipc?: boolean;
}

/** What Node resolved for a child: the fields both doors read. */
export interface NodeChild {
  file: string;
  args?: unknown;
  cwd?: unknown;
  envPairs?: unknown;
  detached?: boolean;
  uid?: unknown;
  gid?: unknown;
}

/** /dev/null on fds 0, 1 and 2: the same frozen entries for every spawn (nothing writes to an
 * entry), made at the first. */
let devnull: readonly StdioEntry[] | undefined;

function devnullEntries(kind: number): readonly StdioEntry[] {
  return Object.freeze([0, 1, 2].map((target) => Object.freeze({ target, kind, fd: -1 })));
}

/** Node's args as the engine's argv: the same array when every element is a string already (as
 * Node's normalizeSpawnArguments leaves them, and nothing changes it during the spawn), else a
 * copy with each made a string, as process_wrap does. */
function argvOf(args: unknown[]): string[] {
  for (let i = 0; i < args.length; i++) {
    if (typeof args[i] !== 'string') return args.map(String);
  }
  return args as string[];
}

/** The engine's stdio entries for Node's stdio, indexed as Node's list (entry.target is the
 * index): 'ignore' is /dev/null for 0-2 and nothing (closed) above, as in libuv; every pipe a
 * socketpair, as libuv makes it, for a child that checks. */
export function engineStdio(stdio: readonly NodeStdio[]): StdioEntry[] {
  const kind = constants().stdioKind;
  const entries: StdioEntry[] = [];
  for (let target = 0; target < stdio.length; target++) {
    const s = stdio[target]!;
    switch (s.type) {
      case 'ignore':
        if (target < 3) entries.push((devnull ??= devnullEntries(kind.devnull))[target]!);
        break;
      case 'pipe':
      case 'overlapped':
        entries.push({ target, kind: kind.socket, fd: -1 });
        break;
      case 'wrap':
        entries.push({ target, kind: kind.fd, fd: s.handle?.fd ?? -1 });
        break;
      default:
        entries.push({ target, kind: kind.fd, fd: s.fd ?? -1 });
    }
  }
  return entries;
}

/** An id as process_wrap reads it: an integer other than -1, as unsigned; else "leave". */
function idOf(value: unknown): number {
  return Number.isInteger(value) && value !== -1 ? (value as number) >>> 0 : -1;
}

/** The ChildSpec of what Node resolved, with the engine's stdio entries. */
export function nodeChildSpec(o: NodeChild, stdio: StdioEntry[]): ChildSpec {
  return childSpec({
    file: o.file,
    argv: Array.isArray(o.args) ? argvOf(o.args) : [o.file],
    // Not an array: the child gets this process's environment, as from process_wrap.
    env: envPairsOf(o.envPairs),
    // A cwd that is not a non-empty string is not used (process_wrap reads only strings).
    cwd: typeof o.cwd === 'string' && o.cwd.length > 0 ? o.cwd : undefined,
    stdio,
    setsid: !!o.detached,
    uid: idOf(o.uid),
    gid: idOf(o.gid),
  });
}
