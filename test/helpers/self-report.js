// Reads the report of test/helpers/c/echo-self: what a child saw of itself.

import { readFileSync } from 'node:fs';

/**
 * The report as { pid, pgid, sid, uid, gid, pdeathsig, groups: number[], fds: number[], cwd,
 * argv: string[], env: string[] }; strings decoded as UTF-8.
 */
export function readSelfReport(path) {
  const bytes = readFileSync(path);
  let at = 0;
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    const text = bytes.subarray(at, end).toString('latin1');
    at = end + 1;
    return text.split(' ');
  };
  const strings = () => {
    const n = Number(line()[1]);
    const list = [];
    for (let i = 0; i < n; i++) {
      const end = bytes.indexOf(0, at);
      list.push(bytes.subarray(at, end).toString('utf8'));
      at = end + 1;
    }
    return list;
  };
  const report = {};
  for (const key of ['pid', 'pgid', 'sid', 'uid', 'gid', 'pdeathsig']) report[key] = Number(line()[1]);
  report.groups = line().slice(2).map(Number);
  report.fds = line().slice(2).map(Number);
  report.cwd = strings()[0];
  report.argv = strings();
  report.env = strings();
  return report;
}
