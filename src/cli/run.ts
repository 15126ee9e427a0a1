// `pidfd run`: run a command with inherited stdio, forward signals, enforce a timeout, report.
//
// The command is a run() (src/run/) with this terminal's stdio and what a command line decides
// that run() decides by itself (NormalizedRun's `launch`): the process group, an existing cgroup,
// the backend, and waiting for the whole tree. The timeout, its SIGKILL (--kill-after), the
// tree's kill and the watchdog of --kill-on-parent-exit are run()'s own.

import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';

import { SpawnError, support, type CgroupSettings, type CgroupStats, type ExitStatus } from '../index.js';
import type { RunError } from '../run/error.js';
import { normalizeLaunch } from '../run/launch.js';
import { createRunProcess, exitStatusOf, startedOf } from '../run/run-process.js';
import { portableEngine } from '../engine-choice.js';
import type { Tree } from '../run/tree.js';
import { SIGKILL, SIGTERM, signalNumberOf } from '../signals.js';
import { parseDuration, parseSignal, parseWithCommand, UsageError } from './args.js';
import { reportJson, reportText } from './report.js';
import { progressLine, Sampler, writeTimeline } from './timeline.js';
import { readStat, statOf, withProcess } from '../process/procfs.js';

export const runHelp = `Usage: pidfd run [options] [--] CMD [ARG...]

Runs CMD with this terminal's stdin, stdout and stderr, and exits with its exit code
(or 128 + the number of the signal that killed it).

Options:
  --timeout DUR          after DUR, send the --signal to CMD (DUR: 10, 2.5s, 500ms, 1m, 2h, 3d;
                         0: no timeout); a stopped CMD is continued (SIGCONT) after it
  --kill-after DUR       with --timeout: send SIGKILL if CMD still runs DUR after the signal
                         (0: never)
  -s, --signal SIG       the signal --timeout sends (default TERM): a name (TERM, INT,
                         RTMIN+3) or a number
  --no-tree              answer for CMD alone: no cgroup of its own; signals and the timeout go
                         to its process group, and pidfd returns when CMD exits
  --memory-max SIZE      limit the tree's memory (512M, 2G): the OOM killer acts beyond it
  --pids-max N           limit the tree to N processes at once
  --cpu-max CPUS         limit the tree to CPUS CPUs (0.5, 2)
  --cgroup PATH          start CMD inside this existing cgroup v2 directory instead
  --kill-on-parent-exit  kill CMD's tree if pidfd itself dies (even by SIGKILL)
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
are forwarded to it. SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 are forwarded in both cases.

Exit codes:
  the exit code of CMD, or 128 + N if signal N ended it
  124  the --timeout expired (CMD was signalled and ended)
  137  the --timeout expired and CMD was ended by SIGKILL (--kill-after, or -s KILL)
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
export function exitCodeOf(status: Pick<ExitStatus, 'code' | 'signal'>): number {
  if (status.signal === null) return status.code ?? 1;
  return 128 + (signalNumberOf(status.signal) ?? 0);
}

/**
 * Whether this process is in the foreground process group of its controlling terminal (where
 * the keyboard's signals go): /proc/self/stat's pgrp and tpgid (-1 without a terminal).
 */
function onForegroundTerminal(): boolean {
  const { pgrp, tpgid } = readStat('self')!;
  return tpgid > 0 && tpgid === pgrp;
}

/** This process's process group (field 5 of /proc/self/stat). */
function processGroup(): number {
  return readStat('self')!.pgrp;
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

/**
 * Sends `signal` to the tree's processes outside process group `pgrp`. On a terminal, the
 * keyboard's signals reach the command and whoever shares its process group; the members of a
 * cgroup that left it (setsid'd descendants) get them from us.
 */
function killOutside(tree: Tree, signal: number, pgrp: number): void {
  for (const pid of tree.members()) {
    withProcess(pid, (pidfd, dir) => {
      if (statOf(dir).pgrp !== pgrp) pidfd.sendSignal(signal);
    });
  }
}

/** run()'s names of the limits, as this command's options. */
const limitFlags: Record<string, string> = { 'tree.memoryMax': '--memory-max', 'tree.pidsMax': '--pids-max', 'tree.cpuMax': '--cpu-max' };

/**
 * The exit code and the message of a command that did not start. A --cgroup that could not be
 * used is named as the option, not as the command ("spawn true ENOENT ..." reads as "true was
 * not found").
 */
function startFailure(error: unknown, cgroup: string | undefined): number {
  const e = error as Error & { code?: string };
  let message = e.message.replace(/^pidfd: /, '').replace(/\btree\.(memoryMax|pidsMax|cpuMax)\b/g, (name) => limitFlags[name]!);
  if (error instanceof SpawnError && error.syscall !== 'execve' && cgroup !== undefined && (error.path === cgroup || error.path === resolve(cgroup))) {
    message = `--cgroup ${cgroup}: ${message.replace(/^spawn .*? (?=[A-Z0-9_]+: )/, '')}; nothing was run`;
  }
  process.stderr.write(`pidfd run: ${message}\n`);
  if (!(error instanceof SpawnError) || error.syscall !== 'execve') return 125;
  return error.code === 'ENOENT' ? 127 : 126;
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
  const signal = values.signal === undefined ? SIGTERM : parseSignal(values.signal as string, '--signal');
  const cgroup = values.cgroup as string | undefined;
  if (values.foreground === true && values['own-group'] === true) {
    throw new UsageError('--foreground and --own-group cannot be combined');
  }
  const foreground = values.foreground === true || (values['own-group'] !== true && onForegroundTerminal());
  const limits = parseLimits(values);
  const hasLimits = Object.keys(limits).length > 0;
  const treeWanted = values['no-tree'] !== true && cgroup === undefined;
  if (!treeWanted && hasLimits) {
    throw new UsageError(`--memory-max, --pids-max and --cpu-max apply to the tree: they cannot be combined with ${cgroup === undefined ? '--no-tree' : '--cgroup'}`);
  }
  const perRun = support().features.perRunCgroup;
  if (treeWanted && hasLimits && !perRun.available) {
    throw new UsageError(`limits need a cgroup of the run's own, which cannot be made here: ${perRun.reason}`);
  }

  // The clone3 and clone backends make the kernel count the launcher's own peak memory in the
  // child's maxRSS (see docs/api.md); a report asks for the fork backend, which does not, for
  // this one spawn, unless PIDFD_BACKEND says otherwise.
  const backend = report !== undefined && process.env.PIDFD_BACKEND === undefined ? 'fork' : undefined;

  // What the tree needs once it has started: forwarded signals go to it, the sampler reads it.
  const timeline = values.timeline as string | undefined;
  const progress = values.progress === true && process.stderr.isTTY === true;
  let tree: Tree | undefined;
  let sampler: Sampler | undefined;
  const n = normalizeLaunch(
    command[0],
    command.slice(1),
    {
      stdin: 'inherit',
      stdout: 'inherit',
      stderr: 'inherit',
      killSignal: signal,
      reject: false,
      // Without --kill-on-parent-exit the command outlives pidfd, as it would without pidfd; with
      // it, the tree dies with pidfd (the watchdog kills it even after a SIGKILL of pidfd).
      cleanup: values['kill-on-parent-exit'] === true,
      tree: treeWanted ? (hasLimits ? limits : true) : false,
    },
    {
      // Durations beyond a Node timer (--timeout 25d) are taken: run()'s timers are long ones. A
      // SIGKILL follows only the timeout's signal, and only with --kill-after: forwarded signals
      // go to the tree directly, not through the run's kill().
      timeout: timeoutMs,
      // 0 disables it, as for timeout(1) ("a duration of 0 disables the associated timeout").
      forceKillAfterDelay: killAfterMs === undefined || killAfterMs === 0 ? false : killAfterMs,
      launch: {
        reach: foreground ? 'leader' : 'group',
        cgroupPath: cgroup,
        backend,
        waitForTree: true,
        onStart: (started) => {
          tree = started;
          if (timeline !== undefined || progress) {
            sampler = new Sampler(started, 100, progress ? (s) => process.stderr.write(progressLine(s)) : undefined);
          }
        },
      },
    },
  );

  // The --timeline file is opened (created, emptied) before CMD starts, as a shell opens
  // `> FILE`: one that cannot be written is said at once, and nothing runs.
  let timelineFd: number | undefined;
  if (timeline !== undefined) {
    try {
      timelineFd = openSync(timeline, 'w');
    } catch (error) {
      process.stderr.write(`pidfd run: --timeline: ${(error as Error).message}; nothing was run\n`);
      return 125;
    }
  }

  // The handlers go in before the child exists: a signal that arrives while it starts is then
  // delivered to them (once the start has returned) instead of killing pidfd and orphaning the
  // child. On a terminal, the terminal's SIGINT and SIGQUIT reach the command directly (it is in
  // our process group): pidfd only keeps them from ending pidfd itself, passes them to the
  // members outside our group, and waits for the command.
  // SIGUSR1 and SIGUSR2 never come from the keyboard: they are forwarded in both modes (and
  // SIGUSR1 never opens Node's inspector: see no-inspector.ts).
  const forwarded: NodeJS.Signals[] = [...(foreground ? [] : (['SIGINT', 'SIGQUIT'] as const)), 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
  const absorbed: NodeJS.Signals[] = foreground ? ['SIGINT', 'SIGQUIT'] : [];
  const ourGroup = processGroup();
  const handlers = [
    ...forwarded.map((sig) => [sig, (): void => void tree?.kill(signalNumberOf(sig)!)] as const),
    ...absorbed.map((sig) => [sig, (): void => tree && killOutside(tree, signalNumberOf(sig)!, ourGroup)] as const),
  ];
  for (const [sig, handler] of handlers) process.on(sig, handler);

  const running = createRunProcess(n, undefined);
  let result: Awaited<typeof running>;
  try {
    result = await running;
  } finally {
    for (const [sig, handler] of handlers) process.off(sig, handler);
    sampler?.stop();
    if (progress && sampler !== undefined) process.stderr.write('\r\x1b[2K');
    if (timelineFd !== undefined) {
      // A timeline that cannot be written (a full disk) costs the timeline, not CMD's status.
      try {
        if (sampler !== undefined) writeTimeline(timeline!, sampler.samples, `pidfd run ${command.join(' ')}`, timelineFd);
      } catch (error) {
        process.stderr.write(`pidfd run: --timeline: could not write ${timeline}: ${(error as Error).message}\n`);
      } finally {
        closeSync(timelineFd);
      }
    }
  }
  const status = exitStatusOf(running);
  if (!startedOf(running)) return startFailure((result as RunError).cause, cgroup);
  if (status === null) {
    // The exit status was lost (see ExitStatus in docs/api.md): how the command ended is unknown.
    process.stderr.write(`pidfd run: ${(result as RunError).shortMessage}\n`);
    return 125;
  }
  if (report !== undefined) {
    let figures: CgroupStats | null = null;
    if (result.cgroup !== undefined) {
      const { path: _removed, ...stats } = result.cgroup;
      figures = stats;
    }
    const r = { command, status, elapsedMs: result.durationMs, timedOut: result.timedOut, backend: portableEngine() ? null : (backend ?? support().backend), tree: figures };
    process.stderr.write(report === 'json' ? reportJson(r) : reportText(r));
  }
  // As timeout(1): 124 when the timeout ended CMD, but 137 (128 + SIGKILL) when it took a SIGKILL
  // (--kill-after, or --signal KILL), so that a forced end can be told from one CMD accepted.
  if (result.timedOut) return status.signal === 'SIGKILL' ? 128 + SIGKILL : 124;
  return exitCodeOf(status);
}
