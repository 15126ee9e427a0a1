// spawn(): create a child with a pidfd obtained atomically, and watch for its exit.

import { binding, ChildStep, type NativeSpawnFailure } from '../binding.js';
import { errnoDescription, errnoName, SpawnError } from '../errors.js';
import { ensureWatcher } from './exits.js';
import { normalizeSpawn, type NormalizedSpawn, type SpawnOptions } from './options.js';
import { Subprocess, kCreate } from './subprocess.js';
import { describeSupport } from '../support.js';

const ENOSYS = 38;
const ENOTSUP = 95;
const EPROTO = 71;

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}

/** The path a failing step worked on, and the fd, for the error's fields and message. */
function failureSubject(n: NormalizedSpawn, f: NativeSpawnFailure): { path?: string; fd?: number } {
  switch (f.step) {
    case ChildStep.exec:
      return { path: n.file };
    case ChildStep.chdir:
      return n.cwd === undefined ? {} : { path: n.cwd };
    case ChildStep.fdMove:
    case ChildStep.fdDup:
    case ChildStep.devnull:
      return f.index >= 0 ? { fd: n.stdio[f.index]!.target } : {};
  }
  if (f.syscall === 'fcntl' || f.syscall === 'pipe2' || f.syscall === 'socketpair') {
    return f.index >= 0 ? { fd: n.stdio[f.index]!.target } : {};
  }
  if (f.syscall === 'open' || (f.syscall === 'clone3' && n.cgroup !== undefined)) {
    return typeof n.cgroup === 'string' ? { path: n.cgroup } : {};
  }
  return {};
}

/** Why a spawn failed, in words that say what to do. */
function failureHint(n: NormalizedSpawn, f: NativeSpawnFailure, subject: { fd?: number }): string {
  if (f.errno === ENOSYS && f.syscall === 'spawn') return describeSupport().reason;
  if (f.errno === ENOTSUP && n.cgroup !== undefined) {
    const support = describeSupport();
    return support.backend === 'clone3'
      ? 'this kernel has no CLONE_INTO_CGROUP (Linux 5.7+)'
      : `placing a child in a cgroup needs clone3, and this process uses the ${support.backend} ` +
          `backend: ${support.reason}`;
  }
  if (f.syscall === 'fcntl' && f.step < 0 && subject.fd !== undefined) {
    return `stdio[${subject.fd}] names fd ${n.stdio[f.index]!.fd}, which is not open in this process`;
  }
  if (f.step === ChildStep.exec && f.errno === 8 /* ENOEXEC */) {
    return 'the file is not an executable format the kernel knows (a script needs a #! line)';
  }
  return '';
}

function spawnError(n: NormalizedSpawn, f: NativeSpawnFailure): SpawnError {
  if (f.errno === EPROTO && f.raw !== undefined) {
    return new SpawnError(
      `spawn ${n.file}: the child's failure report was malformed ` +
        `(${f.raw.length} bytes: ${f.raw.toString('hex')}); the child was reaped`,
      {
        code: 'ERR_PIDFD_CHILD_REPORT',
        errno: -EPROTO,
        syscall: 'spawn',
        spawnfile: n.file,
        spawnargs: n.argv,
      },
    );
  }
  const subject = failureSubject(n, f);
  const code = errnoName(f.errno);
  const where =
    subject.path !== undefined
      ? `${f.syscall} '${subject.path}'`
      : subject.fd !== undefined
        ? `${f.syscall} (fd ${subject.fd})`
        : f.syscall;
  const hint = failureHint(n, f, subject);
  return new SpawnError(
    `spawn ${n.file} ${code}: ${errnoDescription(f.errno)}, ${where}${hint ? ` (${hint})` : ''}`,
    {
      code,
      errno: -f.errno,
      syscall: f.syscall,
      ...subject,
      spawnfile: n.file,
      spawnargs: n.argv,
    },
  );
}

/**
 * Starts `file` with `args`. The child is created with clone3(CLONE_PIDFD) where the kernel
 * allows, so its pidfd exists from the first instant; its exit arrives through that pidfd in the
 * event loop. Throws a SpawnError (with code, errno, syscall, path) if the child could not start
 * the program, and a TypeError or RangeError for bad arguments, before any system call.
 */
export function spawn(file: string, args?: readonly string[], options?: SpawnOptions): Subprocess;
export function spawn(file: string, options?: SpawnOptions): Subprocess;
export function spawn(
  file: string,
  argsOrOptions?: readonly string[] | SpawnOptions,
  maybeOptions?: SpawnOptions,
): Subprocess {
  const args = Array.isArray(argsOrOptions) ? argsOrOptions : [];
  const options = Array.isArray(argsOrOptions) ? (maybeOptions ?? {}) : (argsOrOptions ?? {});
  const n = normalizeSpawn(file, args, options);
  if (n.abortSignal?.aborted) throw abortError(n.abortSignal);

  const native = binding();
  ensureWatcher();
  const result = native.spawn({ ...n.plan, ref: true });
  if ('errno' in result) throw spawnError(n, result);
  return new Subprocess(kCreate, {
    pid: result.pid,
    pidfd: result.pidfd,
    stdio: n.stdio,
    parentFds: result.fds,
    file: n.file,
    argv: n.argv,
    abortSignal: n.abortSignal,
    killSignal: n.killSignal,
  });
}
