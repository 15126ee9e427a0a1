// The settings of a per-run cgroup (`spawn(..., { cgroup: { ... } })`): where to create it and
// the limits to write into it, checked before anything is created.

import { invalidArgType, invalidArgValue, outOfRange } from '../errors.js';
import { validateKnownOptions, validateObject, validateString } from '../validate.js';

/** A per-run cgroup: where it is made, and limits for the whole tree. */
export interface CgroupSettings {
  /** The directory to create it in (default: $PIDFD_CGROUP_PARENT, else this process's own
   * cgroup). A relative path is inside the cgroup v2 mount. */
  parent?: string;
  /** memory.max: bytes, a size ('512M', '2G'), or 'max'. Beyond it the OOM killer acts. */
  memoryMax?: number | string;
  /** memory.high: bytes, a size, or 'max'. Beyond it the tree is throttled and reclaimed. */
  memoryHigh?: number | string;
  /** memory.swap.max: bytes, a size, or 'max'. */
  memorySwapMax?: number | string;
  /** pids.max: the most processes (and threads) the tree may have at once, or 'max'. */
  pidsMax?: number | 'max';
  /** cpu.max: a share of one CPU (0.5 is half a CPU, 2 is two CPUs), 'QUOTA PERIOD' in
   * microseconds, or 'max'. */
  cpuMax?: number | string;
  /** cpu.weight: from 1 to 10000 (the kernel's default is 100). */
  cpuWeight?: number;
}

/** One interface file to write, and the controller it belongs to. */
export interface CgroupLimit {
  option: keyof CgroupSettings;
  /** The option as the caller wrote it, for messages: 'cgroup.memoryMax', 'tree.memoryMax'. */
  name: string;
  file: string;
  controller: 'memory' | 'pids' | 'cpu';
  value: string;
}

export interface ParsedCgroupSettings {
  parent: string | undefined;
  limits: CgroupLimit[];
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

function size(value: unknown, name: string): string {
  const expected = "a number of bytes, a size such as '512M' or '2G', or 'max'";
  if (value === 'max') return 'max';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw outOfRange(name, value, expected);
    return String(value);
  }
  if (typeof value !== 'string') throw invalidArgType(name, value, expected);
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim());
  if (match === null) throw invalidArgValue(name, value, `must be ${expected}`);
  return String(Math.floor(Number(match[1]) * SIZE_UNITS[match[2]!.toUpperCase()]!));
}

function pids(value: unknown, name: string): string {
  const expected = "a positive integer (the most processes at once) or 'max'";
  if (value === 'max') return 'max';
  if (typeof value !== 'number') throw invalidArgType(name, value, expected);
  if (!Number.isSafeInteger(value) || value < 1) throw outOfRange(name, value, expected);
  return String(value);
}

const CPU_PERIOD_US = 100_000;

function cpuMax(value: unknown, name: string): string {
  const expected = "a share of one CPU (0.5, 2), 'QUOTA PERIOD' in microseconds, or 'max'";
  if (value === 'max') return 'max';
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0 || value > 4096) throw outOfRange(name, value, expected);
    return `${Math.max(1000, Math.round(value * CPU_PERIOD_US))} ${CPU_PERIOD_US}`;
  }
  if (typeof value !== 'string') throw invalidArgType(name, value, expected);
  if (!/^(max|\d+)(\s+\d+)?$/.test(value.trim())) throw invalidArgValue(name, value, `must be ${expected}`);
  return value.trim();
}

function cpuWeight(value: unknown, name: string): string {
  const expected = 'an integer from 1 to 10000';
  if (typeof value !== 'number') throw invalidArgType(name, value, expected);
  if (!Number.isInteger(value) || value < 1 || value > 10000) throw outOfRange(name, value, expected);
  return String(value);
}

const limitParsers: Record<Exclude<keyof CgroupSettings, 'parent'>, { file: string; controller: CgroupLimit['controller']; parse: (v: unknown, name: string) => string }> = {
  memoryMax: { file: 'memory.max', controller: 'memory', parse: size },
  memoryHigh: { file: 'memory.high', controller: 'memory', parse: size },
  memorySwapMax: { file: 'memory.swap.max', controller: 'memory', parse: size },
  pidsMax: { file: 'pids.max', controller: 'pids', parse: pids },
  cpuMax: { file: 'cpu.max', controller: 'cpu', parse: cpuMax },
  cpuWeight: { file: 'cpu.weight', controller: 'cpu', parse: cpuWeight },
};

const known: ReadonlySet<string> = new Set(['parent', ...Object.keys(limitParsers)]);

/**
 * Checks `cgroup: true | { ... }` (or run()'s `tree` option: `option` names it in messages) and
 * turns it into the files to write.
 */
export function parseCgroupSettings(value: true | object, option = 'cgroup'): ParsedCgroupSettings {
  if (value === true) return { parent: undefined, limits: [] };
  validateObject(value, option, 'option');
  validateKnownOptions(value, known, `the ${option} settings`);
  const settings = value as CgroupSettings;
  const parent = settings.parent === undefined ? undefined : validateString(settings.parent, `${option}.parent`);
  const limits: CgroupLimit[] = [];
  for (const [key, spec] of Object.entries(limitParsers) as [keyof typeof limitParsers, (typeof limitParsers)[keyof typeof limitParsers]][]) {
    const raw = settings[key];
    if (raw === undefined) continue;
    const name = `${option}.${key}`;
    limits.push({ option: key, name, file: spec.file, controller: spec.controller, value: spec.parse(raw, name) });
  }
  return { parent, limits };
}
