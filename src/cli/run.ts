// `pidfd run`: run a command with inherited stdio, forward signals, enforce a timeout, report.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { spawn, SpawnError, support, type CgroupSettings, type ExitStatus, type Subprocess } from '../index.js';
import { signalNumberOf } from '../signals.js';
import { parseDuration, parseSignal, parseWithCommand, setLongTimeout, UsageError } from './args.js';
import { reportJson, reportText } from './report.js';
import { progressLine, Sampler, writeTimeline } from './timeline.js';
import { treeOf } from './tree.js';

export const runHelp = `Usage: pidfd run [options] [--] CMD [ARG...]

Runs CMD with this terminal's stdin, stdout and stderr, and exits with its exit code
(or 128 + the number of the signal that killed it).

Options:
  --timeout DUR          after DUR, send the --signal to CMD (DUR: 10, 2.5s, 500ms, 1m, 2h, 3d;
                         0: no timeout); a stopped CMD is continued (SIGCONT) after it
  --kill-after DUR       with --timeout: send SIGKILL if CMD still runs DUR after the signal
  -s, --signal SIG       the signal --timeout sends (default TERM): a name (TERM, INT,
                         RTMIN+3) or a number
  --no-tree              answer for CMD alone: no cgroup of its own; signals and the timeout go
                         to its process group, and pidfd returns when CMD exits
  --memory-max SIZE      limit the tree's memory (512M, 2G): the OOM killer acts beyond it
  --pids-max N           limit the tree to N processes at once
  --cpu-max CPUS         limit the tree to CPUS CPUs (0.5, 2)
  --cgroup PATH          start CMD inside this existing cgroup v2 directory instead
  --kill-on-parent-exit  have the kernel kill CMD if pidfd itself dies
  --timeline FILE        sample the tree every 100 ms (CPU, memory, processes) and write it to
                         FILE: an SVG chart for .svg, JSON lines otherwise
  --progress             one live status line on stderr (a terminal) while CMD runs
  --foreground           run CMD in pidfd's own process group, as on a terminal (see below)
  --own-group            run CMD in a process group of its own, even on a terminal
  --report[=json]        print the exit status and resource usage to stderr when CMD ends:
                         a table like /usr/bin/time -v, or one line of JSON
  -h, --help             this text

The tree. Wherever a cgroup v2 directory can be made, CMD and everything it starts (setsid'd
and double-forked processes included) run in a cgroup of their own: the timeout, a forwarded
signal and Ctrl-C reach all of them, pidfd returns only once the last one has ended, and
--report covers them all. Elsewhere (no cgroup v2, no write access) the tree is CMD's process
group, which a descendant can leave.

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
  'no-tree': { type: 'boolean' },
  'memory-max': { type: 'string' },
  'pids-max': { type: 'string' },
  'cpu-max': { type: 'string' },
  timeline: { type: 'string' },
  progress: { type: 'boolean' },
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

/** This process's process group (field 5 of /proc/self/stat). */
function processGroup(): number {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** --memory-max, --pids-max, --cpu-max as cgroup settings; a bad value is a usage error. */
function parseLimits(values: Record<string, unknown>): CgroupSettings {
  const limits: CgroupSettings = {};
  if (values['memory-max'] !== undefined) limits.memoryMax = values['memory-max'] as string;
  if (values['pids-max'] !== undefined) {
    const n = Number(values['pids-max']);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--pids-max: ${JSON.stringify(values['pids-max'])} is not a positive integer`);
    limits.pidsMax = n;
  }
  if (values['cpu-max'] !== undefined) {
    const n = Number(values['cpu-max']);
    if (!(n > 0)) throw new UsageError(`--cpu-max: ${JSON.stringify(values['cpu-max'])} is not a number of CPUs (0.5, 2)`);
    limits.cpuMax = n;
  }
  if (limits.memoryMax !== undefined && !/^\d+(\.\d+)?\s*[KMGT]?(i?B)?$/i.test(limits.memoryMax as string) && limits.memoryMax !== 'max') {
    throw new UsageError(`--memory-max: ${JSON.stringify(limits.memoryMax)} is not a size (512M, 2G)`);
  }
  return limits;
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
  const limits = parseLimits(values);
  const treeWanted = values['no-tree'] !== true && cgroup === undefined;
  if (!treeWanted && Object.keys(limits).length > 0) {
    throw new UsageError(`--memory-max, --pids-max and --cpu-max apply to the tree: they cannot be combined with ${cgroup === undefined ? '--no-tree' : '--cgroup'}`);
  }
  const perRun = support().features.perRunCgroup;
  if (treeWanted && Object.keys(limits).length > 0 && !perRun.available) {
    throw new UsageError(`limits need a cgroup of the run's own, which cannot be made here: ${perRun.reason}`);
  }
  const runCgroup: true | CgroupSettings | undefined = treeWanted && perRun.available ? (Object.keys(limits).length > 0 ? limits : true) : undefined;

  // The clone3 and clone backends make the kernel count the launcher's own peak memory in the
  // child's maxRSS (see docs/api.md); a report asks for the fork backend, which does not, for
  // this one spawn, unless PIDFD_BACKEND says otherwise.
  const backend = report !== undefined && process.env.PIDFD_BACKEND === undefined ? 'fork' : undefined;

  // The handlers go in before the child exists: a signal that arrives while it starts is held
  // and forwarded once it runs, instead of killing pidfd and orphaning the child. In the
  // foreground, the terminal's SIGINT and SIGQUIT reach the child directly (it is in our process
  // group): pidfd only keeps them from ending pidfd itself, and waits for the child.
  let child: Subprocess | undefined;
  let tree: ReturnType<typeof treeOf> | undefined;
  const held: NodeJS.Signals[] = [];
  const forwarded: NodeJS.Signals[] = foreground ? ['SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'];
  // In the foreground the terminal reached the command and whoever shares our process group;
  // with a cgroup, the rest of the tree (setsid'd descendants) gets it from us.
  const absorbed: NodeJS.Signals[] = foreground ? ['SIGINT', 'SIGQUIT'] : [];
  const ourGroup = processGroup();
  const handlers = [
    ...forwarded.map((sig) => {
      const handler = (): void => {
        if (tree === undefined) held.push(sig);
        else void tree.kill(signalNumberOf(sig)!);
      };
      return [sig, handler] as const;
    }),
    ...absorbed.map((sig) => [sig, (): void => void tree?.killOutside(signalNumberOf(sig)!, ourGroup)] as const),
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
      ...(runCgroup === undefined ? {} : { cgroup: runCgroup }),
      ...(backend === undefined ? {} : { backend }),
    });
  } catch (error) {
    removeHandlers();
    if (!(error instanceof SpawnError)) {
      const e = error as Error & { code?: string };
      if (e.code?.startsWith('ERR_PIDFD_CGROUP')) {
        process.stderr.write(`pidfd run: ${e.message.replace(/^pidfd: /, '')}\n`);
        return 125;
      }
      throw error;
    }
    process.stderr.write(`pidfd run: ${error.message}\n`);
    if (error.syscall !== 'execve') return 125;
    return error.code === 'ENOENT' ? 127 : 126;
  }
  const running = child;
  const theTree = treeOf(running, !foreground);
  tree = theTree;
  for (const sig of held) void theTree.kill(signalNumberOf(sig)!);

  const progress = values.progress === true && process.stderr.isTTY === true;
  const timeline = values.timeline as string | undefined;
  const sampler =
    timeline !== undefined || progress ? new Sampler(theTree, 100, progress ? (s) => process.stderr.write(progressLine(s)) : undefined) : undefined;

  let timedOut = false;
  const cancels: (() => void)[] = [];
  let killAfter: Promise<void> | undefined;
  if (timeoutMs > 0) {
    cancels.push(
      setLongTimeout(() => {
        timedOut = true;
        void theTree.kill(signal).then(() => {
          // A stopped command would never act on the signal: continue it, as timeout(1) does
          // (a cgroup's kill does so for every stopped member itself).
          if (theTree.kind !== 'cgroup' && signal !== SIGKILL && signal !== SIGCONT) return theTree.kill(SIGCONT);
        });
        if (killAfterMs !== undefined) {
          killAfter = new Promise((resolve) => {
            cancels.push(setLongTimeout(() => void theTree.kill(SIGKILL).then(resolve, resolve), killAfterMs));
          });
        }
      }, timeoutMs),
    );
  }

  let status: ExitStatus;
  let treeStats;
  try {
    status = await running.exited;
    // The command returns when its whole tree has: daemons it left are waited for.
    treeStats = await theTree.done();
    // A process group outlives its leader, and nothing tells when it is empty: after a timeout,
    // its members that ignored the signal get --kill-after's SIGKILL before pidfd goes.
    if (theTree.kind === 'process-group' && killAfter !== undefined) await killAfter;
  } finally {
    for (const cancel of cancels) cancel();
    removeHandlers();
    sampler?.stop();
    if (progress) process.stderr.write('\r\x1b[2K');
  }
  const elapsedMs = performance.now() - started;
  if (timeline !== undefined) writeTimeline(timeline, sampler!.samples, `pidfd run ${command.join(' ')}`);
  if (report !== undefined) {
    const r = { command, status, elapsedMs, timedOut, backend: backend ?? support().backend, tree: treeStats ?? null };
    process.stderr.write(report === 'json' ? reportJson(r) : reportText(r));
  }
  return timedOut ? 124 : exitCodeOf(status);
}

