// run()'s child spec, built in one place: from the run's checked options, the stdio opened when
// it starts (run-process.ts), and how its tree holds the first process (tree.ts).

import type { Backend, CgroupChoice, ChildSpec } from '../process/spec.js';
import { childSpec } from '../process/spec.js';
import type { StdioEntry } from '../process/stdio.js';
import type { NormalizedRun } from './options.js';

/** How the tree holds the run's first process (tree.ts decides). */
export interface TreePlacement {
  /** 0: a new process group led by the child; -1: this process's group. */
  pgid: number;
  /** SIGKILL with `cleanup` in the main thread; else 0. */
  pdeathsig: number;
  cgroup: CgroupChoice;
  backend: Backend | undefined;
}

/** What a run's child takes from its checked options. */
export type RunChild = Pick<NormalizedRun, 'file' | 'argv' | 'env' | 'path' | 'cwd' | 'uid' | 'gid' | 'extraStdio'>;

/** The ChildSpec of a run's first process: fds 0-2 from `stdio`, the fds above from the
 * options' `stdio[3+]`. */
export function runChildSpec(n: RunChild, stdio: readonly StdioEntry[], place: TreePlacement): ChildSpec {
  return childSpec({
    file: n.file,
    argv: n.argv,
    env: n.env,
    path: n.path,
    cwd: n.cwd,
    stdio: n.extraStdio.length === 0 ? stdio : [...stdio, ...n.extraStdio],
    uid: n.uid,
    gid: n.gid,
    pgid: place.pgid,
    pdeathsig: place.pdeathsig,
    cgroup: place.cgroup,
    backend: place.backend,
  });
}
