// `pidfd run`: run a command with inherited stdio, forward signals, enforce a timeout, report.

import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';

import { spawn, SpawnError, support, type ExitStatus, type Subprocess } from '../index.js';
import { parseDuration, parseSignal, parseWithCommand, UsageError } from './args.js';
import { reportJson, reportText } from './report.js';

export const runHelp = `Usage: pidfd run [options] [--] CMD [ARG...]

Runs CMD with this terminal's stdin, stdout and stderr, and exits with its exit code
(or 128 + the number of the signal that killed it).

Options:
  --timeout DUR          after DUR, send the --signal to CMD (DUR: 10, 2.5s, 500ms, 1m, 2h)
  --kill-after DUR       with --timeout: send SIGKILL if CMD still runs DUR after the signal
  -s, --signal SIG       the signal --timeout sends (default TERM)
  --cgroup PATH          start CMD inside this cgroup v2 directory (CLONE_INTO_CGROUP)
  --kill-on-parent-exit  have the kernel kill CMD if pidfd itself dies
  --foreground           keep CMD in pidfd's process group (for interactive programs);
                         by default it gets its own, and SIGINT, SIGTERM and SIGHUP that
                         pidfd receives are forwarded to it through its pidfd
  --report[=json]        print the exit status and resource usage to stderr when CMD ends:
                         a table like /usr/bin/time -v, or one line of JSON
  -h, --help             this text

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
  'report-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

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

function exitCodeOf(status: ExitStatus): number {
  if (status.signal === null) return status.code ?? 1;
  return 128 + ((constants.signals as Record<string, number>)[status.signal] ?? 0);
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
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout as string, '--timeout');
  const killAfterMs = values['kill-after'] === undefined ? undefined : parseDuration(values['kill-after'] as string, '--kill-after');
  if (killAfterMs !== undefined && timeoutMs === undefined) throw new UsageError('--kill-after needs --timeout');
  const signal = values.signal === undefined ? 'SIGTERM' : parseSignal(values.signal as string, '--signal', constants.signals);
  const cgroup = values.cgroup as string | undefined;
  const foreground = values.foreground === true;

  // The clone3 and clone backends make the kernel count the launcher's own peak memory in the
  // child's maxRSS (see docs/api.md); a report uses the fork backend, which does not, unless a
  // cgroup (clone3 only) or the user says otherwise.
  if (report !== undefined && cgroup === undefined && process.env.PIDFD_BACKEND === undefined) {
    process.env.PIDFD_BACKEND = 'fork';
  }

  // The handlers go in before the child exists: a signal that arrives while it starts is held
  // and forwarded once it runs, instead of killing pidfd and orphaning the child. In --foreground
  // mode the terminal's SIGINT reaches the child directly, so only SIGTERM and SIGHUP are
  // forwarded.
  let child: Subprocess | undefined;
  const held: string[] = [];
  const handlers = forwarded
    .filter((sig) => !(foreground && sig === 'SIGINT'))
    .map((sig) => {
      const handler = (): void => {
        if (child === undefined) held.push(sig);
        else child.kill(sig);
      };
      process.on(sig, handler);
      return [sig, handler] as const;
    });
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
    });
  } catch (error) {
    removeHandlers();
    if (!(error instanceof SpawnError)) throw error;
    process.stderr.write(`pidfd run: ${error.message}\n`);
    if (error.syscall !== 'execve') return 125;
    return error.code === 'ENOENT' ? 127 : 126;
  }
  const running = child;
  for (const sig of held) running.kill(sig as 'SIGINT');

  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  if (timeoutMs !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        running.kill(signal);
        if (killAfterMs !== undefined) timers.push(setTimeout(() => running.kill('SIGKILL'), killAfterMs));
      }, timeoutMs),
    );
  }

  let status: ExitStatus;
  try {
    status = await running.exited;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    removeHandlers();
  }
  const elapsedMs = performance.now() - started;
  if (report !== undefined) {
    const r = { command, status, elapsedMs, timedOut, backend: support().backend };
    process.stderr.write(report === 'json' ? reportJson(r) : reportText(r));
  }
  return timedOut ? 124 : exitCodeOf(status);
}
