// `pidfd info`: what the kernel says about processes, read race-free through their pidfds.

import { PidFd, type Ids } from '../index.js';
import { CommandError, parsePidCommand } from './args.js';

export const infoHelp = `Usage: pidfd info [--json] PID...

Shows, for each PID: its parent, user and group ids, cgroup, stable identity and command line.
Everything is read through a pidfd, so it all belongs to one process even if its pid is reused
meanwhile. The stable id (the pidfs inode, Linux 6.9+) is never given to another process: pass
it to 'pidfd kill --expect-id' to be sure to signal this process and no other.

Options:
  --json      one JSON array, one object per PID
  -h, --help  this text

Exit codes:
  0  every PID was shown
  1  a PID could not be read (no such process, permission denied); the others were shown
  2  usage error
`;

const options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Shown {
  pid: number;
  ppid: number | null;
  uids: Ids | null;
  gids: Ids | null;
  cgroup: string | null;
  cgroupId: string | null;
  id: string | null;
  cmdline: string[];
  alive: boolean;
}

function read(pid: number): Shown {
  const handle = PidFd.open(pid);
  try {
    const info = handle.info();
    let id: string | null = null;
    try {
      id = String(handle.id);
    } catch {
      // no pidfs on this kernel: there is no stable id to show
    }
    const dir = handle.openProcDir();
    try {
      const cmdline = dir.readFile('cmdline', 'utf8').split('\0');
      if (cmdline.at(-1) === '') cmdline.pop();
      const cgroup = /^0::(.*)$/m.exec(dir.readFile('cgroup', 'utf8'))?.[1] ?? null;
      return {
        pid,
        ppid: info.ppid,
        uids: info.uids,
        gids: info.gids,
        cgroup,
        cgroupId: info.cgroupId === null ? null : String(info.cgroupId),
        id,
        cmdline,
        alive: handle.isAlive(),
      };
    } finally {
      dir.close();
    }
  } finally {
    handle.close();
  }
}

function ids(x: Ids | null): string {
  return x === null ? '-' : `${x.real} (real) ${x.effective} (effective) ${x.saved} (saved) ${x.fs} (fs)`;
}

function text(s: Shown): string {
  const rows: [string, string][] = [
    ['ppid', String(s.ppid ?? '-')],
    ['uid', ids(s.uids)],
    ['gid', ids(s.gids)],
    ['cgroup', s.cgroup ?? '-'],
    ['cgroup id', s.cgroupId ?? '-'],
    ['stable id', s.id ?? '- (needs Linux 6.9)'],
    ['command', s.cmdline.length === 0 ? '[kernel thread or zombie]' : s.cmdline.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')],
  ];
  if (!s.alive) rows.push(['state', 'exited (a zombie, not yet reaped by its parent)']);
  return `pid ${s.pid}\n${rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}\n`).join('')}`;
}

export async function info(argv: string[]): Promise<number> {
  const parsed = parsePidCommand(argv, options, infoHelp);
  if (parsed === null) return 0;
  const { values, pids } = parsed;
  const shown: Shown[] = [];
  const failures: string[] = [];
  for (const pid of pids) {
    try {
      shown.push(read(pid));
    } catch (error) {
      const code = (error as { code?: string }).code;
      failures.push(code === 'ESRCH' ? `no such process: ${pid}` : `cannot read ${pid}: ${(error as Error).message}`);
    }
  }
  if (values.json === true) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  else process.stdout.write(shown.map(text).join('\n'));
  if (failures.length > 0) {
    // All but the last go out here; the last becomes the command's error line.
    for (const line of failures.slice(0, -1)) process.stderr.write(`pidfd info: ${line}\n`);
    throw new CommandError(failures.at(-1)!);
  }
  return 0;
}
