// A child's stdio: a UNIX socketpair (what libuv gives, and so child_process and
// pidfd/child_process) or a kernel pipe (what pidfd's own spawn() and run() give). N MiB go through
// the child's stdout (dd writing 1 MiB blocks of zeros, read by this process) and through its
// stdin (this process writing 1 MiB buffers, dd reading them into /dev/null), once per contender
// and round, in alternating rounds.
//
// The two "own end" contenders isolate the kind of channel: the same pidfd/child_process spawn
// with the child's end given as an fd, and the same reader or writer on ours (a net.Socket on a
// Pipe handle, what ChildProcess makes of a stdio pipe); only pipe2() or socketpair() differs.

import * as nodeChildProcess from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

import { nowNs } from '../lib/clock.js';
import { alternate } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

const compat = await import(
  process.env.PIDFD_BENCH_COMPAT ? pathToFileURL(process.env.PIDFD_BENCH_COMPAT).href : new URL('../../dist/compat/child_process.js', import.meta.url).href
);
const lib = await import(process.env.PIDFD_BENCH_LIB ? pathToFileURL(process.env.PIDFD_BENCH_LIB).href : new URL('../../dist/index.js', import.meta.url).href);
const { binding } = await import(new URL('../../dist/binding.js', import.meta.url).href);

const MiB = 1024 * 1024;
const block = Buffer.alloc(MiB);
const TICK_S = 0.01; // /proc's clock ticks (USER_HZ 100)

/** CPU of this process's reaped children so far (cutime + cstime of /proc/self/stat), s. */
function childrenCpuS() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): cutime and cstime are fields 16 and 17.
  return (Number(fields[13]) + Number(fields[14])) * TICK_S;
}

/** Writes `bytes` to `stream` in 1 MiB writes, heeding backpressure, then ends it. */
function pump(stream, bytes) {
  return new Promise((resolve, reject) => {
    let left = bytes;
    stream.once('error', reject);
    const more = () => {
      while (left > 0) {
        left -= MiB;
        if (!stream.write(block)) return void stream.once('drain', more);
      }
      stream.end(resolve);
    };
    more();
  });
}

/** Counts what `stream` gives until its end. */
function drain(stream) {
  return new Promise((resolve, reject) => {
    let n = 0;
    stream.on('data', (chunk) => (n += chunk.length));
    stream.once('error', reject);
    stream.once('end', () => resolve(n));
  });
}

function closed(child) {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`child: ${code ?? signal}`))));
  });
}

const producer = (mib) => ['dd', ['if=/dev/zero', 'bs=1M', `count=${mib}`, 'status=none']];
const consumer = ['dd', ['of=/dev/null', 'bs=1M', 'status=none']];

/** The child's stdout or stdin through a channel that child_process makes ('pipe'). */
async function viaModule(cp, direction, mib) {
  if (direction === 'stdout') {
    const child = cp.spawn(...producer(mib), { stdio: ['ignore', 'pipe', 'ignore'] });
    const [n] = await Promise.all([drain(child.stdout), closed(child)]);
    return n;
  }
  const child = cp.spawn(...consumer, { stdio: ['pipe', 'ignore', 'ignore'] });
  await Promise.all([pump(child.stdin, mib * MiB), closed(child)]);
  return mib * MiB;
}

/** The same through pidfd/child_process, with a channel made here: `make` is pipe2 or socketpair. */
async function viaOwnEnd(make, direction, mib) {
  const ends = make();
  if (typeof ends === 'number') throw new Error(`pipe/socketpair: ${ends}`);
  // pipe2 gives [read, write]; a socketpair's ends are alike.
  const [childEnd, ourEnd] = direction === 'stdout' ? [ends[1], ends[0]] : [ends[0], ends[1]];
  const stdio = direction === 'stdout' ? ['ignore', childEnd, 'ignore'] : [childEnd, 'ignore', 'ignore'];
  let child;
  try {
    child = compat.spawn(...(direction === 'stdout' ? producer(mib) : consumer), { stdio });
  } finally {
    binding().close(childEnd);
  }
  const stream = new Socket({ fd: ourEnd, readable: direction === 'stdout', writable: direction === 'stdin' });
  if (direction === 'stdout') {
    const [n] = await Promise.all([drain(stream), closed(child)]);
    return n;
  }
  await Promise.all([pump(stream, mib * MiB), closed(child)]);
  return mib * MiB;
}

/** pidfd's own spawn(): its 'pipe' on fds 0-2 is a kernel pipe. */
async function viaSubprocess(direction, mib) {
  if (direction === 'stdout') {
    const sub = lib.spawn(...producer(mib), { stdio: ['ignore', 'pipe', 'ignore'] });
    const [n] = await Promise.all([drain(sub.stdout), sub.exited]);
    return n;
  }
  const sub = lib.spawn(...consumer, { stdio: ['pipe', 'ignore', 'ignore'] });
  await Promise.all([pump(sub.stdin, mib * MiB), sub.exited]);
  return mib * MiB;
}

export const contenders = {
  'child_process (socketpair)': (d, mib) => viaModule(nodeChildProcess, d, mib),
  'pidfd/child_process (socketpair)': (d, mib) => viaModule(compat, d, mib),
  'pidfd/child_process, own end: socketpair': (d, mib) => viaOwnEnd(() => binding().socketpair(), d, mib),
  'pidfd/child_process, own end: kernel pipe': (d, mib) => viaOwnEnd(() => binding().pipe(), d, mib),
  'pidfd spawn() (kernel pipe)': (d, mib) => viaSubprocess(d, mib),
};

/** params: { mib, rounds }. */
export async function run({ mib, rounds }) {
  const names = Object.keys(contenders);
  const out = { mib, rounds, directions: {} };
  for (const direction of ['stdout', 'stdin']) {
    const samples = Object.fromEntries(names.map((name) => [name, { mibPerS: [], cpuS: [], childCpuS: [] }]));
    for (const name of names) await contenders[name](direction, 4); // warm-up
    await alternate(names, rounds, async (name) => {
      const cpu0 = process.cpuUsage();
      const child0 = childrenCpuS();
      const t0 = nowNs();
      const n = await contenders[name](direction, mib);
      const seconds = (nowNs() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      if (n !== mib * MiB) throw new Error(`${name} ${direction}: ${n} bytes, not ${mib * MiB}`);
      samples[name].mibPerS.push(mib / seconds);
      samples[name].cpuS.push((cpu.user + cpu.system) / 1e6);
      samples[name].childCpuS.push(childrenCpuS() - child0);
    }, `compat-stdio ${direction}`);
    out.directions[direction] = Object.fromEntries(
      names.map((name) => [
        name,
        {
          mibPerS: summarize(samples[name].mibPerS),
          cpuS: summarize(samples[name].cpuS),
          childCpuS: summarize(samples[name].childCpuS),
          roundRates: samples[name].mibPerS,
        },
      ]),
    );
  }
  return out;
}
