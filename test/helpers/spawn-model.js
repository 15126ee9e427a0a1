// What spawn() must do with a generated input (spawn-inputs.js): the call to make, and the
// documented outcome: the validation error, an AbortError, a SpawnError (code and syscall), or a
// running child and what it must see. The order of the checks is the documented one: arguments
// in the order of spawn()'s signature and options (docs/api.md), then the parent's own steps,
// then the child's (docs/internals.md: session, group, cwd, fds, credentials, execve).

import { fstatSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dirOutcome, execOutcome } from './exec-rules.js';
import { ABSENT, HOLE, RANGE, TYPE, VALUE } from './spawn-inputs.js';

/** A string as the child receives it: UTF-8, lone surrogates as U+FFFD. */
export const asChildSees = (s) => Buffer.from(s, 'utf8').toString('utf8');

/** The ids, group, session and supplementary groups of this process. */
export function selfIds() {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const [, , pgid, sid] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const groups = /^Groups:[ \t]*(.*)$/m.exec(readFileSync('/proc/self/status', 'latin1'))[1];
  return {
    uid: process.getuid(),
    gid: process.getgid(),
    pgid,
    sid,
    groups: groups.trim() === '' ? [] : groups.trim().split(/\s+/).map(Number),
  };
}

function isOpen(fd) {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

const define = (obj, key, value) =>
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });

function envPart(part) {
  if ('value' in part) return part;
  const env = part.inherited ? Object.create({ PIDFD_FUZZ_INHERITED: 'not own' }) : {};
  for (const [key, value] of part.entries) define(env, key, value);
  if (part.path !== ABSENT) define(env, 'PATH', part.path);
  let error;
  for (const key of Object.keys(env)) {
    const value = env[key];
    if (value === undefined) continue;
    if (key === '' || key.includes('=') || key.includes('\0')) error = VALUE;
    else if (value === null || ['object', 'function', 'symbol'].includes(typeof value)) error = TYPE;
    else if (String(value).includes('\0')) error = VALUE;
    if (error) break;
  }
  return { value: env, error };
}

function stdioEntryError(entry) {
  if (entry === undefined || entry === null || ['pipe', 'inherit', 'ignore'].includes(entry))
    return undefined;
  if (typeof entry === 'number')
    return Number.isInteger(entry) && entry >= 0 && entry <= 2 ** 31 - 1 ? undefined : RANGE;
  if (typeof entry === 'object') return Number.isInteger(entry.fd) && entry.fd >= 0 ? undefined : VALUE;
  return VALUE;
}

function stdioPart(part) {
  if ('value' in part) return part;
  const list = [];
  part.list.forEach((entry, i) => {
    if (entry !== HOLE) list[i] = entry;
  });
  list.length = part.list.length;
  if (part.far !== null) list[part.far[0]] = part.far[1];
  let error;
  for (let i = 0; i < list.length && error === undefined; i++) error = stdioEntryError(list[i]);
  return { value: list, error };
}

/** Per child fd: the parent fd it comes from (or -1 for a pipe or /dev/null); absent: closed. */
function stdioPlan(stdio) {
  const list = stdio === ABSENT || stdio === undefined ? 'pipe' : stdio;
  const entries = typeof list === 'string' ? [list, list, list] : list;
  const plan = new Map();
  for (let t = 0; t < Math.max(entries.length, 3); t++) {
    const e = entries[t] ?? (t < 3 ? 'pipe' : 'ignore');
    if (e === 'pipe' || (e === 'ignore' && t < 3)) plan.set(t, -1);
    else if (e === 'inherit') plan.set(t, t);
    else if (typeof e === 'number') plan.set(t, e);
    else if (typeof e === 'object') plan.set(t, e.fd);
  }
  return plan;
}

const given = (part) => part.value !== ABSENT && part.value !== undefined;

/** The options object built from the parts, and the first validation error they must raise. */
function optionsAndError(parts, p) {
  const signal = p.signal.make ? { value: p.signal.make(), aborted: p.signal.aborted } : p.signal;
  const env = envPart(p.env);
  const stdio = stdioPart(p.stdio);
  const pg = p.processGroup.value;
  const pgid =
    pg === true || pg === 0 ? 0 : typeof pg === 'number' && p.processGroup.error === undefined ? pg : -1;
  const combo = p.detached.value === true && p.detached.error === undefined && pgid >= 0 ? VALUE : undefined;
  const named = {
    argv0: p.argv0,
    cwd: p.cwd,
    env,
    stdio,
    detached: p.detached,
    processGroup: p.processGroup,
    uid: p.uid,
    gid: p.gid,
    groups: p.groups,
    killOnParentExit: p.killOnParentExit,
    cgroup: p.cgroup,
    signal,
    killSignal: p.killSignal,
  };
  const options = {};
  for (const [key, part] of Object.entries(named)) if (part.value !== ABSENT) options[key] = part.value;
  if (p.unknown.value !== ABSENT) options[p.unknown.value] = true;
  // The order spawn() checks them in: its arguments, unknown options, then each option.
  const order = [parts.file, parts.args, parts.shape, p.unknown, p.argv0, p.cwd, env, stdio];
  order.push(p.detached, p.processGroup, { error: combo }, p.uid, p.gid, p.groups, p.killOnParentExit);
  order.push(p.cgroup, signal, p.killSignal);
  const error = order.find((part) => part.error !== undefined)?.error;
  return { options, error, aborted: signal.aborted === true, env: env.value, stdio: stdio.value, pgid };
}

/** The SpawnErrors a valid input must cause, in the order the steps run (parent, then child). */
function hazards(ctx, p, o, plan, cwd, creds) {
  const found = [];
  const cgroup = p.cgroup.value;
  const isRoot = ctx.ids.uid === 0;
  for (const [, fd] of [...plan].sort((a, b) => a[0] - b[0])) {
    if (fd >= 0 && !isOpen(fd)) found.push({ codes: ['EBADF'], syscall: 'fcntl' });
  }
  if (typeof cgroup === 'string' && dirOutcome(cgroup) !== null) {
    found.push({ codes: [dirOutcome(cgroup)], syscall: 'open' });
  }
  // Not a cgroup directory (none of the generated ones is): with clone3 the kernel's
  // cgroup_get_from_fd refuses it; without clone3 the child would join through its cgroup.procs,
  // which the parent opens first: there is none (ENOENT), or the fd is no directory (ENOTDIR) or
  // not open (EBADF).
  if (given(p.cgroup)) {
    found.push(ctx.backend === 'clone3' ? { codes: ['EBADF'], syscall: 'clone3' } : { codes: ['ENOENT', 'ENOTDIR', 'EBADF'], syscall: 'open' });
  }
  if (o.pgid > 0 && o.pgid !== ctx.ids.pgid) found.push({ codes: ['EPERM'], syscall: 'setpgid' });
  if (cwd.given && dirOutcome(cwd.path) !== null)
    found.push({ codes: [dirOutcome(cwd.path)], syscall: 'chdir' });
  if (!isRoot && given(p.groups)) found.push({ codes: ['EPERM'], syscall: 'setgroups' });
  if (!isRoot && creds.gid !== ctx.ids.gid) found.push({ codes: ['EPERM'], syscall: 'setgid' });
  if (!isRoot && creds.uid !== ctx.ids.uid) found.push({ codes: ['EPERM'], syscall: 'setuid' });
  const envGiven = o.env !== ABSENT && o.env !== undefined;
  const searchPath = !envGiven
    ? process.env.PATH
    : Object.hasOwn(o.env, 'PATH') && o.env.PATH !== undefined
      ? String(o.env.PATH)
      : undefined;
  const base = dirOutcome(cwd.path) === null ? cwd.path : process.cwd();
  const exec = execOutcome(p.file.value, searchPath, base, creds, ctx.noShebang);
  if (exec !== null) found.push({ codes: [exec], syscall: 'execve' });
  return found;
}

/**
 * The call for `parts` and its expected outcome, one of { error } (a code), { abort: true },
 * { spawnError: { codes, syscall } }, { child: {...} }. Run right before spawn(): it looks at
 * which fds are open now.
 */
export function expectation(ctx, parts, reportPath) {
  const { file, args } = parts;
  if (args.notArray) {
    // spawn(file, x, ...) with x not an array takes x for the options.
    return { call: [file.value, args.value, { cwd: '/' }], expected: { error: file.error ?? args.error } };
  }
  // Options that are not an object (null included) make every option irrelevant.
  const usable = parts.shape.value !== null && parts.shape.error === undefined;
  const keep = (k) => usable || k === 'file' || k === 'args' || k === 'shape';
  const p = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, keep(k) ? v : { value: ABSENT }]));
  const o = optionsAndError(parts, p);
  const options =
    parts.shape.error !== undefined || parts.shape.value === null ? parts.shape.value : o.options;
  const call = [file.value, [reportPath, ...args.value], options];
  if (o.error !== undefined) return { call, expected: { error: o.error } };
  if (o.aborted) return { call, expected: { abort: true } };

  const cwdValue = p.cwd.value instanceof URL ? fileURLToPath(p.cwd.value) : p.cwd.value;
  const cwd = given(p.cwd)
    ? { given: true, path: isAbsolute(cwdValue) ? cwdValue : resolve(process.cwd(), cwdValue) }
    : { given: false, path: process.cwd() };
  const plan = stdioPlan(o.stdio);
  const isRoot = ctx.ids.uid === 0;
  const creds = {
    uid: given(p.uid) ? p.uid.value : ctx.ids.uid,
    gid: given(p.gid) ? p.gid.value : ctx.ids.gid,
    groups: given(p.groups) ? p.groups.value : (given(p.uid) || given(p.gid)) && isRoot ? [] : ctx.ids.groups,
  };
  const failures = hazards(ctx, p, o, plan, cwd, creds);
  if (failures.length > 0) return { call, expected: { spawnError: failures[0] } };

  const envGiven = o.env !== ABSENT && o.env !== undefined;
  const argv0 = p.argv0.value === ABSENT ? file.value : p.argv0.value;
  const pdeathsig = { true: 9, SIGTERM: 15, 'SIGRTMIN+2': 36, 10: 10 }[String(p.killOnParentExit.value)];
  const child = {
    argv: [argv0, reportPath, ...args.value].map(asChildSees),
    env: envGiven
      ? Object.keys(o.env)
          .filter((k) => o.env[k] !== undefined)
          .map((k) => asChildSees(`${k}=${String(o.env[k])}`))
      : Object.entries(process.env)
          .map(([k, v]) => `${k}=${v}`)
          .sort(),
    envSorted: !envGiven,
    cwd: realpathSync(cwd.path),
    fds: [...plan.keys()].sort((a, b) => a - b),
    ...creds,
    pdeathsig: pdeathsig ?? 0,
    session: p.detached.value === true ? 'own' : 'parent',
    group: p.detached.value === true || o.pgid === 0 ? 'own' : o.pgid > 0 ? o.pgid : 'parent',
  };
  return { call, expected: { child } };
}
