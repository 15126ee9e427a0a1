// A short soak in every pass of npm test (issue 5, item 5); `npm run soak` runs the full counts
// (test/soak/run.js). What is checked is in test/helpers/soak.js.

import { describe, test } from 'node:test';

import { countExitRecords, soakConcurrent, soakCycles } from './helpers/soak.js';

const cycles = Number(process.env.PIDFD_SOAK_CYCLES ?? 300);
const children = Number(process.env.PIDFD_SOAK_CHILDREN ?? 200);

describe('soak', () => {
  test(`${cycles} spawn/kill/await cycles and ${children} children at once: each exit delivered once, no fd or child left`, async (t) => {
    const records = await countExitRecords();
    const a = await soakCycles(records, cycles);
    t.diagnostic(
      `cycles ${a.cycles} in ${a.seconds.toFixed(1)} s, fds ${a.startFds} → max ${a.maxFds} → ${a.endFds}`,
    );
    const b = await soakConcurrent(records, children);
    t.diagnostic(
      `${b.children} at once in ${b.seconds.toFixed(1)} s, fds ${b.startFds} → peak ${b.peakFds} → ${b.endFds}`,
    );
  });
});
