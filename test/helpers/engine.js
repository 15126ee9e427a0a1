// The engine the run()/`$`/drop-in tests run on, and the skip of a test whose guarantee only the
// pidfd engine gives (src/engine-choice.ts). The portable pass of test/run.js sets PIDFD_ENGINE=portable;
// the seccomp-nopidfd pass leaves no pidfd backend working, so the library picks the portable
// engine by itself.

import { existsSync } from 'node:fs';

import { support } from '../../dist/index.js';

/** The engine of run(), `$` and the drop-in in this process. */
export const engine = support().engines.run.name;

/** Whether the tests run on the portable engine (Node's child_process). */
export const portable = engine === 'portable';

/**
 * Test options for a test of something only the pidfd engine does (a Subprocess, rusage, a
 * per-run cgroup, the watchdog, race-free signals): skipped on the portable engine, with why.
 * `test(name, pidfdOnly('a Subprocess'), body)`.
 */
export function pidfdOnly(why) {
  return portable ? { skip: `pidfd engine only: ${why}` } : {};
}

/** Resolves once the first process of a run has exited: its Subprocess's `exited` on the pidfd
 * engine; on the portable one (no Subprocess), once Node has reaped it: its /proc entry is gone
 * (libuv reaps and calls the exit callback, which emits 'exit', in the same turn). */
export async function firstExited(running) {
  if (running.subprocess !== undefined) return running.subprocess.exited;
  const { until } = await import('../run/helpers.js');
  return until(() => !existsSync(`/proc/${running.pid}`), `the reap of ${running.pid}`);
}
