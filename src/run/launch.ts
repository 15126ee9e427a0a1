// `pidfd run`'s entry into run(): normalizeLaunch() checks run()'s options as run() does
// (normalizeRun()), then what a command line decides that run()'s options do not offer, and
// checks it too: durations beyond a Node timer (`--timeout 25d`: run()'s timers are long ones),
// no SIGKILL after the timeout's signal at all (`--kill-after 0`), and the Launch (tree.ts: the
// process group, an existing cgroup, the backend, waiting for the whole tree, the start hook).
// The command sets nothing on checked options itself: this is the one way in besides run().

import { invalidArgType, invalidArgValue, outOfRange } from '../errors.js';
import type { Backend } from '../process/options.js';
import { validateBoolean, validateObject, validateOneOf, validateString } from '../validate.js';
import { normalizeRun, type NormalizedRun, type RunOptions } from './options.js';
import type { Launch, Reach } from './tree.js';

/** What `pidfd run` decides that run()'s options do not offer. */
export interface LaunchSettings {
  /** Milliseconds before the tree is sent killSignal, however many (0: never). */
  timeout: number;
  /** Milliseconds after killSignal before SIGKILL, however many; false: never. */
  forceKillAfterDelay: number | false;
  launch: Launch;
}

const reaches: readonly Reach[] = ['group', 'leader'];
/** The backends (the compiler holds the keys to Backend's names). */
const backends = Object.keys({ clone3: true, clone: true, fork: true } satisfies Record<Backend, true>) as Backend[];
const launchKeys: ReadonlySet<string> = new Set(
  Object.keys({ reach: true, cgroupPath: true, backend: true, waitForTree: true, onStart: true } satisfies Record<keyof Launch, true>),
);

/** A duration in milliseconds from 0, however long (a command line's `25d`); not only whole ones
 * (`1.5ms`). */
function parseLongDuration(value: unknown, name: string): number {
  const expected = `a number of milliseconds from 0 to ${Number.MAX_SAFE_INTEGER}`;
  if (typeof value !== 'number') throw invalidArgType(name, value, expected);
  if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER)) throw outOfRange(name, value, expected);
  return value;
}

function parseLaunch(value: unknown): Launch {
  validateObject(value, 'launch', 'option');
  for (const key of Object.keys(value as object)) {
    if (!launchKeys.has(key)) {
      throw invalidArgValue(`launch.${key}`, (value as Record<string, unknown>)[key], `is not a key of launch; its keys are ${[...launchKeys].join(', ')}`);
    }
  }
  const given = value as Record<keyof Launch, unknown>;
  const launch: Launch = {};
  if (given.reach !== undefined) launch.reach = validateOneOf(given.reach, 'launch.reach', reaches);
  if (given.cgroupPath !== undefined) launch.cgroupPath = validateString(given.cgroupPath, 'launch.cgroupPath', { empty: true }); // refused by the start, as a path
  if (given.backend !== undefined) launch.backend = validateOneOf(given.backend, 'launch.backend', backends);
  if (given.waitForTree !== undefined) launch.waitForTree = validateBoolean(given.waitForTree, 'launch.waitForTree');
  if (given.onStart !== undefined) {
    if (typeof given.onStart !== 'function') throw invalidArgType('launch.onStart', given.onStart, 'a function');
    launch.onStart = given.onStart as Launch['onStart'];
  }
  return launch;
}

/**
 * Checks run()'s arguments and options (normalizeRun()) and `pidfd run`'s own settings; throws a
 * TypeError or RangeError before anything is started. The options' `timeout` and
 * `forceKillAfterDelay` are the settings', not the options'.
 */
export function normalizeLaunch(
  file: unknown,
  args: unknown,
  options: Omit<RunOptions, 'timeout' | 'forceKillAfterDelay'>,
  settings: LaunchSettings,
): NormalizedRun {
  const n = normalizeRun(file, args, options);
  validateObject(settings, 'settings');
  n.timeout = parseLongDuration(settings.timeout, 'timeout');
  n.forceKillAfterDelay = settings.forceKillAfterDelay === false ? -1 : parseLongDuration(settings.forceKillAfterDelay, 'forceKillAfterDelay');
  n.launch = parseLaunch(settings.launch);
  return n;
}
