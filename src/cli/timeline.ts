// `pidfd run --timeline FILE` and `--progress`: the tree sampled every 100 ms (CPU, memory,
// processes), written as an SVG chart or JSON lines, or shown as one live line on a terminal.

import { writeFileSync } from 'node:fs';

import type { CgroupStats } from '../index.js';
import { statOf, withProcess } from '../process/procfs.js';

/** What a Sampler reads: the tree's pids, and its cgroup's figures where it has one. */
export interface Sampled {
  members(): number[];
  figures(): CgroupStats | undefined;
}

/** One sample of the tree. */
export interface Sample {
  /** Milliseconds since the start. */
  t: number;
  /** CPU use since the previous sample, in % of one CPU. */
  cpu: number;
  /** Bytes of memory; `approximate` when summed from the members' RSS (no memory controller). */
  memory: number;
  approximate: boolean;
  processes: number;
}

const PAGE = 4096;

/** The members' CPU time (µs) and RSS (bytes), read through their pidfds. */
function fromMembers(pids: number[]): { cpuUs: number; rss: number } {
  let cpuUs = 0;
  let rss = 0;
  for (const pid of pids) {
    withProcess(pid, (_, dir) => {
      const { utime, stime } = statOf(dir);
      cpuUs += ((utime + stime) * 1e6) / 100; // clock ticks (USER_HZ 100)
      rss += Number(dir.readFile('statm', 'latin1').split(' ')[1]) * PAGE;
    });
  }
  return { cpuUs, rss };
}

/** Samples a tree every `intervalMs` until stopped. */
export class Sampler {
  readonly samples: Sample[] = [];
  #tree: Sampled;
  #timer: NodeJS.Timeout;
  #started = performance.now();
  #lastCpuUs = 0;
  #lastT = 0;

  constructor(tree: Sampled, intervalMs = 100, onSample?: (s: Sample) => void) {
    this.#tree = tree;
    const take = (first: boolean): void => {
      const s = this.#sample(first);
      this.samples.push(s);
      onSample?.(s);
    };
    // A first sample at the start: a command shorter than one interval still has its line (and
    // the CPU of the next one is counted from here).
    take(true);
    this.#timer = setInterval(() => take(false), intervalMs);
    this.#timer.unref();
  }

  #sample(first: boolean): Sample {
    // The first sample is the timeline's zero (a thread descheduled between the Sampler's
    // creation and its first sample would otherwise start the timeline at a few ms).
    const now = performance.now();
    if (first) this.#started = now;
    const t = now - this.#started;
    const pids = this.#tree.members();
    const stats = this.#tree.figures() ?? null;
    const members = stats === null || stats.memory === null ? fromMembers(pids) : null;
    const cpuUs = stats !== null ? stats.cpu.usageUs : members!.cpuUs;
    const cpu = !first && t > this.#lastT ? Math.max(0, ((cpuUs - this.#lastCpuUs) / ((t - this.#lastT) * 1000)) * 100) : 0;
    this.#lastCpuUs = cpuUs;
    this.#lastT = t;
    return {
      t: Math.round(t),
      cpu: Math.round(cpu * 10) / 10,
      memory: stats?.memory?.current ?? members!.rss,
      approximate: stats?.memory == null,
      processes: pids.length,
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The live status line of --progress (on stderr, a terminal). */
export function progressLine(s: Sample): string {
  return `\r\x1b[2K${(s.t / 1000).toFixed(1)} s  CPU ${s.cpu.toFixed(0)}%  memory ${s.approximate ? '~' : ''}${mib(s.memory)}  processes ${s.processes}`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Three stacked line charts (CPU, memory, processes) over time, as SVG. */
export function timelineSvg(samples: Sample[], title: string): string {
  const width = 760;
  const left = 70;
  const right = 20;
  const panel = 150;
  const top = 40;
  const gap = 40;
  const endT = Math.max(1, samples.at(-1)?.t ?? 1);
  const x = (t: number): number => left + ((width - left - right) * t) / endT;
  const approximate = samples.some((s) => s.approximate);
  const series: [string, (s: Sample) => number, (v: number) => string][] = [
    ['CPU (% of one CPU)', (s) => s.cpu, (v) => `${v.toFixed(0)}%`],
    [`Memory${approximate ? ' (approximate: sum of the members’ RSS)' : ''}`, (s) => s.memory, (v) => mib(v)],
    ['Processes', (s) => s.processes, (v) => v.toFixed(0)],
  ];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + series.length * (panel + gap) + 20}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="10" y="22" font-size="15" font-weight="bold" fill="#222">${escape(title.length > 90 ? `${title.slice(0, 87)}...` : title)}</text>`,
  ];
  series.forEach(([name, value, label], i) => {
    const y0 = top + i * (panel + gap) + 20;
    const max = Math.max(1e-9, ...samples.map(value));
    const y = (v: number): number => y0 + panel - (panel * v) / max;
    parts.push(`<text x="10" y="${y0 - 6}" font-size="12" fill="#555">${escape(name)}</text>`);
    parts.push(`<line x1="${left}" y1="${y0 + panel}" x2="${width - right}" y2="${y0 + panel}" stroke="#999"/>`);
    parts.push(`<text x="${left - 6}" y="${y0 + 10}" font-size="11" fill="#555" text-anchor="end">${escape(label(max))}</text>`);
    parts.push(`<text x="${left - 6}" y="${y0 + panel}" font-size="11" fill="#555" text-anchor="end">0</text>`);
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(value(s)).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="#d62728" stroke-width="1.5" points="${points}"/>`);
  });
  const yAxis = top + series.length * (panel + gap);
  // A tick per second (per 10 s, per minute on longer runs), under every panel.
  const step = endT > 600_000 ? 60_000 : endT > 60_000 ? 10_000 : 1000;
  for (let t = 0; t <= endT; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top + 20}" x2="${x(t).toFixed(1)}" y2="${yAxis - gap + 20}" stroke="#eee"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${yAxis}" font-size="11" fill="#555" text-anchor="middle">${t / 1000} s</text>`);
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}

/** The samples as the content of `file`: SVG for .svg, else JSON lines (one per sample). */
export function timelineText(file: string, samples: Sample[], title: string): string {
  return file.endsWith('.svg') ? timelineSvg(samples, title) : samples.map((s) => `${JSON.stringify(s)}\n`).join('');
}

/** Writes the samples to `file` (a path, or a descriptor opened for writing). */
export function writeTimeline(file: string, samples: Sample[], title: string, fd?: number): void {
  writeFileSync(fd ?? file, timelineText(file, samples, title));
}
