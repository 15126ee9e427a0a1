// `pidfd kill`: signal processes through pidfds; with --expect-id, only the process meant.

import { PidFd } from '../index.js';
import { SIGTERM } from '../signals.js';
import { CommandError, parsePidCommand, parseSignal, UsageError } from './args.js';

export const killHelp = `Usage: pidfd kill [-s SIG] [--expect-id ID] [--tree] PID...

Sends a signal (default TERM) to each PID through a pidfd. With --expect-id, the signal is
sent only if the process still has that stable id (from 'pidfd info'): a script's kill can then
never hit another process that was given the same pid.

With --tree, the signal goes to each PID and every descendant of it, found by walking /proc
through pidfds: each member is stopped as it is found, so the tree cannot grow while it is
walked, then signalled and continued. A descendant whose parent exited before the walk (a
double-forked daemon) is no longer in the tree (see docs/trees.md).

Options:
  -s, --signal SIG    the signal: TERM, SIGKILL, 9, RTMIN+1, ... (0 only checks; not with --tree)
  --expect-id ID      signal only the process with this stable id (one PID only)
  --tree              signal every descendant of each PID too
  -v, --verbose       with --tree: print the pids signalled, one line per PID
  -h, --help          this text

Exit codes:
  0  every signal was sent
  1  a signal was not sent: no such process, permission denied (to a member of a tree too), a
     different process, or a tree that holds this command
  2  usage error
`;

const options = {
  signal: { type: 'string', short: 's' },
  'expect-id': { type: 'string' },
  tree: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function kill(argv: string[]): Promise<number> {
  const parsed = parsePidCommand(argv, options, killHelp);
  if (parsed === null) return 0;
  const { values, pids } = parsed;
  const tree = values.tree === true;
  const signal = values.signal === undefined ? SIGTERM : parseSignal(values.signal as string, '--signal', { allowZero: !tree });
  if (values.verbose === true && !tree) throw new UsageError('--verbose goes with --tree');
  const expectText = values['expect-id'] as string | undefined;
  if (expectText !== undefined) {
    if (!/^\d+$/.test(expectText)) throw new UsageError(`--expect-id: invalid id ${JSON.stringify(expectText)}`);
    if (pids.length !== 1) throw new UsageError('--expect-id names one process: give exactly one PID');
  }

  const failures: string[] = [];
  for (const pid of pids) {
    let handle: PidFd;
    try {
      handle = PidFd.open(pid);
    } catch (error) {
      const code = (error as { code?: string }).code;
      failures.push(code === 'ESRCH' ? `no such process: ${pid}` : `cannot open ${pid}: ${(error as Error).message}`);
      continue;
    }
    try {
      if (expectText !== undefined) {
        const id = handle.id; // throws where the kernel has no stable ids
        if (id !== BigInt(expectText)) {
          failures.push(`pid ${pid} is another process now (id ${id}, not ${expectText}): not signalled`);
          continue;
        }
      }
      if (tree) {
        const result = handle.killTree(signal);
        if (values.verbose === true) process.stdout.write(`${pid}: ${result.signalled.join(' ')}\n`);
        if (result.denied.length > 0) failures.push(`permission denied: ${result.denied.join(', ')} (in the tree of ${pid})`);
        if (!result.complete) failures.push(`the tree of ${pid} still grew after ${result.passes} passes: what it started last was not signalled`);
      } else if (!handle.sendSignal(signal)) {
        failures.push(`no such process: ${pid} (it has exited)`);
      }
    } catch (error) {
      const e = error as Error & { code?: string };
      if (e.code === 'EPERM') failures.push(`permission denied: ${pid}`);
      else if (e.code === 'ESRCH') failures.push(`no such process: ${pid} (it has exited)`);
      else if (e.code === 'ERR_PIDFD_TREE_OF_SELF') failures.push(`the tree of ${pid} holds this command: not signalled`);
      else failures.push(`${pid}: ${e.message}`);
    } finally {
      handle.close();
    }
  }
  if (failures.length > 0) {
    for (const line of failures.slice(0, -1)) process.stderr.write(`pidfd kill: ${line}\n`);
    throw new CommandError(failures.at(-1)!);
  }
  return 0;
}
