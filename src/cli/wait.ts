// `pidfd wait`: wait for processes that need not be our children, without polling.

import { PidFd, type ExitStatus } from '../index.js';
import { setLongTimeout } from '../timers.js';
import { CommandError, parseDuration, parsePidCommand } from './args.js';

export const waitHelp = `Usage: pidfd wait [options] PID...

Waits until every PID has exited (or, with --any, the first one), watching each process
through a pidfd: no polling, and the processes need not be children of pidfd. Prints one line
per process as it exits, with its exit code or signal where the kernel tells (Linux 6.15+:
once the process's parent has collected it).

Options:
  --timeout DUR   give up after DUR (10, 2.5s, 500ms, 1m, 2h, 3d; 0: never)
  --any           return as soon as one PID has exited
  -h, --help      this text

Exit codes:
  0    the processes exited (with --any: at least one)
  1    a PID could not be watched (no such process, permission denied)
  2    usage error
  124  the timeout expired first
`;

const options = {
  timeout: { type: 'string' },
  any: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** One line about an exit: "1234: exited with code 0". */
export function describeExit(info: ExitStatus): string {
  if (info.signal !== null) return `${info.pid}: killed by ${info.signal}${info.coreDumped ? ' (core dumped)' : ''}`;
  if (info.code !== null) return `${info.pid}: exited with code ${info.code}`;
  return `${info.pid}: exited (status unknown: ${info.reason})`;
}

export async function wait(argv: string[]): Promise<number> {
  const parsed = parsePidCommand(argv, options, waitHelp);
  if (parsed === null) return 0;
  const { values, pids } = parsed;
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout as string, '--timeout');

  const handles: PidFd[] = [];
  try {
    for (const pid of pids) {
      try {
        handles.push(PidFd.open(pid));
      } catch (error) {
        const code = (error as { code?: string }).code;
        throw new CommandError(code === 'ESRCH' ? `no such process: ${pid}` : `cannot watch ${pid}: ${(error as Error).message}`);
      }
    }
    const exits = handles.map((h) =>
      h.exited().then((info) => {
        if (info !== null) process.stdout.write(`${describeExit(info)}\n`);
      }),
    );
    const done = values.any === true ? Promise.race(exits) : Promise.all(exits);
    if (timeoutMs === undefined || timeoutMs === 0) {
      await done;
      return 0;
    }
    let cancel: (() => void) | undefined;
    const expired = new Promise<'timeout'>((resolve) => {
      cancel = setLongTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([done, expired]);
    cancel?.();
    if (outcome === 'timeout') {
      process.stderr.write(`pidfd wait: timed out after ${values.timeout as string}\n`);
      return 124;
    }
    return 0;
  } finally {
    for (const h of handles) h.close();
  }
}
