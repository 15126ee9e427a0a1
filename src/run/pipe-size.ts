// Large pipes for large flows. A pipe holds 64 KiB by default: a writer that produces faster
// than its reader reads stops at each 64 KiB and waits to be woken, and at gigabytes that
// back-and-forth costs more than the copying (a 1 GiB `dd | wc -c` moves ~1.5× faster through a
// 1 MiB pipe here). Growing a pipe costs one fcntl, but its pages count against the user's
// pipe budget (/proc/sys/fs/pipe-user-pages-soft: 64 MiB by default); past it, every new pipe
// of that user, in any program, gets a single page. So only pipes that carry a large flow are
// grown (a pipeline's pipe; a capture once a read finds its pipe full), to 1 MiB (the default
// pipe-max-size, allowed without privilege), and at most 16 at a time in one environment.
// Growing is advice: a refusal (EPERM past the user's budget) leaves the pipe as it was, and a
// pipe that holds as much already (a command grew it) is left alone, never shrunk.

import { binding } from '../binding.js';

const GROWN_BYTES = 1 << 20;
const MAX_GROWN = 16;
let grown = 0;

/** Grows the pipe of `fd` to 1 MiB if the budget allows and the kernel agrees: the function that
 * gives its share of the budget back (call it when the pipe is gone), or null. */
export function growPipe(fd: number): (() => void) | null {
  if (grown >= MAX_GROWN || binding().setPipeSize(fd, GROWN_BYTES) <= 0) return null;
  grown++;
  let given = false;
  return () => {
    if (given) return;
    given = true;
    grown--;
  };
}

/** How many grown pipes this environment holds now (for tests). */
export function grownPipes(): number {
  return grown;
}
