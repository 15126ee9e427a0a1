// The --report of `pidfd run`: the exit status and resource usage, as a table or as JSON.

import type { CgroupStats, ExitStatus } from '../index.js';

/** What `pidfd run --report` tells about one run. */
export interface RunReport {
  command: string[];
  status: ExitStatus;
  elapsedMs: number;
  timedOut: boolean;
  backend: string | null;
  /** The whole tree's figures, when it ran in a cgroup of its own. */
  tree?: CgroupStats | null;
}

function seconds(us: number): string {
  return (us / 1e6).toFixed(3);
}

/** The report as JSON, one line. */
export function reportJson(r: RunReport): string {
  return `${JSON.stringify({
    command: r.command,
    pid: r.status.pid,
    code: r.status.code,
    signal: r.status.signal,
    coreDumped: r.status.coreDumped,
    timedOut: r.timedOut,
    elapsedMs: Math.round(r.elapsedMs * 1000) / 1000,
    rusage: r.status.rusage,
    ...(r.status.oomKilled ? { oomKilled: true } : {}),
    ...(r.tree ? { tree: r.tree } : {}),
  })}\n`;
}

/** The report as an aligned table, in the manner of `/usr/bin/time -v`. */
export function reportText(r: RunReport): string {
  const { status } = r;
  const rows: [string, string][] = [
    ['Command', r.command.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')],
    ['Pid', String(status.pid)],
    status.signal === null
      ? ['Exit status', String(status.code)]
      : ['Killed by signal', `${status.signal}${status.coreDumped ? ' (core dumped)' : ''}${status.oomKilled ? ' (the OOM killer)' : ''}`],
  ];
  if (r.timedOut) rows.push(['Timed out', 'yes']);
  rows.push(['Elapsed (wall clock) time (s)', (r.elapsedMs / 1000).toFixed(3)]);
  const u = status.rusage;
  if (u === null) {
    // With no backend, the portable engine ran the command: Node's child_process gives no rusage.
    rows.push(['Resource usage', r.backend === null ? "unavailable (Node's child_process gives none: the portable engine)" : 'unavailable (the child was reaped by another waiter)']);
  } else {
    rows.push(
      ['User time (s)', seconds(u.userCPUTime)],
      ['System time (s)', seconds(u.systemCPUTime)],
      [
        'Maximum resident set size (KiB)',
        `${u.maxRSS}${r.backend === 'fork' ? '' : ' (at least the launcher\'s own peak: see docs/cli.md)'}`,
      ],
      ['Major page faults', String(u.majorFaults)],
      ['Minor page faults', String(u.minorFaults)],
      ['Voluntary context switches', String(u.voluntaryContextSwitches)],
      ['Involuntary context switches', String(u.involuntaryContextSwitches)],
    );
  }
  const t = r.tree;
  if (t) {
    // The whole tree, from its cgroup: every descendant, waited for or not.
    rows.push(
      ['Tree: user time (s)', seconds(t.cpu.userUs)],
      ['Tree: system time (s)', seconds(t.cpu.systemUs)],
      ['Tree: peak memory (KiB)', t.memory?.peak != null ? String(Math.round(t.memory.peak / 1024)) : 'unavailable (no memory controller)'],
      ['Tree: peak processes', t.pids?.peak != null ? String(t.pids.peak) : 'unavailable (no pids controller)'],
    );
    if (t.oomKills !== null) rows.push(['Tree: OOM kills', String(t.oomKills)]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `\t${`${k}:`.padEnd(width + 1)} ${v}\n`).join('');
}
