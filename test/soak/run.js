// `npm run soak`: 10,000 spawn/kill/await cycles and 1,000 children at once (issue 5, item 5),
// with the figures printed. Counts: PIDFD_SOAK_CYCLES, PIDFD_SOAK_CHILDREN; the backend:
// PIDFD_BACKEND as always.

import { readFileSync } from 'node:fs';

import { support } from '../../dist/index.js';
import { countExitRecords, soakConcurrent, soakCycles } from '../helpers/soak.js';

const cycles = Number(process.env.PIDFD_SOAK_CYCLES ?? 10000);
const children = Number(process.env.PIDFD_SOAK_CHILDREN ?? 1000);

// The soft RLIMIT_NOFILE (Node has no getrlimit): every running child holds one pidfd.
const limit = Number(
  /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))?.[1] ?? Infinity,
);
if (limit <= children + 100) {
  console.error(
    `RLIMIT_NOFILE is ${limit}: ${children} children need ${children} pidfds; raise it (ulimit -n)`,
  );
  process.exit(1);
}
const { backend, kernel } = support();
console.log(`soak: backend ${backend}, kernel ${kernel}, node ${process.version}`);
const records = await countExitRecords();
const a = await soakCycles(records, cycles);
console.log(
  `cycles: ${a.cycles} spawn/kill/await (+${a.failedSpawns} failed spawns) in ${a.seconds.toFixed(1)} s ` +
    `(${(a.cycles / a.seconds).toFixed(0)}/s); fds ${a.startFds} at start, max ${a.maxFds}, ${a.endFds} at end; ` +
    'no child left after any cycle; every exit delivered once',
);
const b = await soakConcurrent(records, children);
console.log(
  `concurrent: ${b.children} children at once in ${b.seconds.toFixed(1)} s; fds ${b.startFds} at start, ` +
    `peak ${b.peakFds}, ${b.endFds} at end; every status right and delivered once; no child left`,
);
console.log('soak passed');
