// `pidfd run`: run a command with inherited stdio, forward signals, enforce a timeout, report.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { spawn, SpawnError, support, type ExitStatus, type Subprocess } from '../index.js';
import { signalNumberOf } from '../signals.js';
import { parseDuration, parseSignal, parseWithCommand, setLongTimeout, UsageError } from './args.js';
import { reportJson, reportText } from './report.js';

export const runHelp = `Usage: pidfd run [options] [--] CMD [ARG...]

Runs CMD with this terminal's stdin, stdout and stderr, and exits with its exit code
(or 128 + the number of the signal that killed it).

Options:
  --timeout DUR          after DUR, send the --signal to CMD (DUR: 10, 2.5s, 500ms, 1m, 2h, 3d;
                         0: no timeout); a stopped CMD is continued (SIGCONT) after it
  --kill-after DUR       with --timeout: send SIGKILL if CMD still runs DUR after the signal
  -s, --signal SIG       the signal --timeout sends (default TERM): a name (TERM, INT,
                         RTMIN+3) or a number
  --cgroup PATH          start CMD inside this cgroup v2 directory (CLONE_INTO_CGROUP)
  --kill-on-parent-exit  have the kernel kill CMD if pidfd itself dies
  --foreground           run CMD in pidfd's own process group, as on a terminal (see below)
  --own-group            run CMD in a process group of its own, even on a terminal
  --report[=json]        print the exit status and resource usage to stderr when CMD ends:
                         a table like /usr/bin/time -v, or one line of JSON
  -h, --help             this text

On a terminal (pidfd in the terminal's foreground process group), CMD runs in pidfd's
process group, as under time(1): it can read the terminal, and Ctrl-C, Ctrl-\\ and Ctrl-Z reach
it directly; pidfd itself waits for it through them and exits with its status. Elsewhere CMD
gets a process group of its own, and SIGINT, SIGQUIT, SIGTERM and SIGHUP that pidfd receives
are forwarded to it. SIGTERM and SIGHUP are forwarded in both cases.

Exit codes:
  the exit code of CMD, or 128 + N if signal N ended it
  124  the --timeout expired (CMD was signalled)
  125  pidfd run itself failed (bad option, cgroup refused, ...)
  126  CMD was found but could not be run (EACCES, ENOEXEC, ...)
  127  CMD was not found
`;

const options = {
  timeout: { type: 'string' },
  'kill-after': { type: 'string' },
  signal: { type: 'string', short: 's' },
  cgroup: { type: 'string' },
  'kill-on-parent-exit': { type: 'boolean' },
  foreground: { type: 'boolean' },
  'own-group': { type: 'boolean' },
  'report-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SIGKILL = 9;
const SIGCONT = 18;

/** `--report` and `--report=json` become --report-format, which parseArgs understands. */
function rewriteReport(argv: string[]): string[] {
  const end = argv.indexOf('--');
  const own = end < 0 ? argv : argv.slice(0, end);
  const mapped = own.map((arg) => {
    if (arg === '--report') return '--report-format=text';
    if (arg.startsWith('--report=')) return `--report-format=${arg.slice('--report='.length)}`;
    return arg;
  });
  return end < 0 ? mapped : [...mapped, ...argv.slice(end)];
}

/** The shell's way to say how a command ended: its code, or 128 + the signal's number. */
export function exitCodeOf(status: ExitStatus): number {
  if (status.signal === null) return status.code ?? 1;
  return 128 + (signalNumberOf(status.signal) ?? 0);
}

/**
 * Whether this process is in the foreground process group of its controlling terminal (where
 * the keyboard's signals go): /proc/self/stat's pgrp and tpgid (-1 without a terminal).
 */
function onForegroundTerminal(): boolean {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const tpgid = Number(fields[5]);
  return tpgid > 0 && tpgid === pgrp;
}

export async function run(argv: string[]): Promise<number> {
  const { values, command } = parseWithCommand(rewriteReport(argv), options);
  if (values.help === true) {
    process.stdout.write(runHelp);
    return 0;
  }
  if (command.length === 0) throw new UsageError('no command given: pidfd run [options] -- CMD [ARG...]');
  const report = values['report-format'] as string | undefined;
  if (report !== undefined && report !== 'text' && report !== 'json') {
    throw new UsageError(`--report=${report}: the report formats are text (--report) and json (--report=json)`);
  }
  // 0 means no timeout, as for timeout(1).
  const timeoutMs = values.timeout === undefined ? 0 : parseDuration(values.timeout as string, '--timeout');
  const killAfterMs = values['kill-after'] === undefined ? undefined : parseDuration(values['kill-after'] as string, '--kill-after');
  if (killAfterMs !== undefined && values.timeout === undefined) throw new UsageError('--kill-after needs --timeout');
  const signal = values.signal === undefined ? 15 : parseSignal(values.signal as string, '--signal');
  const cgroup = values.cgroup as string | undefined;
  if (values.foreground === true && values['own-group'] === true) {
    throw new UsageError('--foreground and --own-group cannot be combined');
  }
  const foreground = values.foreground === true || (values['own-group'] !== true && onForegroundTerminal());

  // The clone3 and clone backends make the kernel count the launcher's own peak memory in the
  // child's maxRSS (see docs/api.md); a report asks for the fork backend, which does not, for
  // this one spawn, unless a cgroup (clone3 only) or PIDFD_BACKEND says otherwise.
  const backend = report !== undefined && cgroup === undefined && process.env.PIDFD_BACKEND === undefined ? 'fork' : undefined;

  // The handlers go in before the child exists: a signal that arrives while it starts is held
  // and forwarded once it runs, instead of killing pidfd and orphaning the child. In the
  // foreground, the terminal's SIGINT and SIGQUIT reach the child directly (it is in our process
  // group): pidfd only keeps them from ending pidfd itself, and waits for the child.
  let child: Subprocess | undefined;
  const held: NodeJS.Signals[] = [];
  const forwarded: NodeJS.Signals[] = foreground ? ['SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'];
  const absorbed: NodeJS.Signals[] = foreground ? ['SIGINT', 'SIGQUIT'] : [];
  const handlers = [
    ...forwarded.map((sig) => {
      const handler = (): void => {
        if (child === undefined) held.push(sig);
        else child.kill(sig);
      };
      return [sig, handler] as const;
    }),
    ...absorbed.map((sig) => [sig, (): void => {}] as const),
  ];
  for (const [sig, handler] of handlers) process.on(sig, handler);
  const removeHandlers = (): void => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };

  const started = performance.now();
  try {
    child = spawn(command[0]!, command.slice(1), {
      stdio: 'inherit',
      processGroup: !foreground,
      killOnParentExit: values['kill-on-parent-exit'] === true,
      ...(cgroup === undefined ? {} : { cgroup }),
      ...(backend === undefined ? {} : { backend }),
    });
  } catch (error) {
    removeHandlers();
    if (!(error instanceof SpawnError)) throw error;
    process.stderr.write(`pidfd run: ${error.message}\n`);
    if (error.syscall !== 'execve') return 125;
    return error.code === 'ENOENT' ? 127 : 126;
  }
  const running = child;
  for (const sig of held) running.kill(sig);

  let timedOut = false;
  const cancels: (() => void)[] = [];
  if (timeoutMs > 0) {
    cancels.push(
      setLongTimeout(() => {
        timedOut = true;
        running.kill(signal);
        // A stopped command would never act on the signal: continue it, as timeout(1) does.
        if (signal !== SIGKILL && signal !== SIGCONT) running.kill(SIGCONT);
        if (killAfterMs !== undefined) cancels.push(setLongTimeout(() => running.kill(SIGKILL), killAfterMs));
      }, timeoutMs),
    );
  }

  let status: ExitStatus;
  try {
    status = await running.exited;
  } finally {
    for (const cancel of cancels) cancel();
    removeHandlers();
  }
  const elapsedMs = performance.now() - started;
  if (report !== undefined) {
    const r = { command, status, elapsedMs, timedOut, backend: backend ?? support().backend };
    process.stderr.write(report === 'json' ? reportJson(r) : reportText(r));
  }
  return timedOut ? 124 : exitCodeOf(status);
}

