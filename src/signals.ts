// Signal names and numbers, and their validation.

import { constants } from 'node:os';

/** A signal, by name ('SIGTERM') or number (15). */
export type Signal = NodeJS.Signals | number;

const byName = new Map<string, number>(Object.entries(constants.signals));
const byNumber = new Map<number, string>();
for (const [name, number] of byName) if (!byNumber.has(number)) byNumber.set(number, name);

// Linux's real-time signals: glibc keeps 32 and 33 for itself, so SIGRTMIN is 34.
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** The highest signal number Linux has. */
export const MAX_SIGNAL = SIGRTMAX;

function realtimeNumber(name: string): number | undefined {
  const match = /^SIGRT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(name);
  if (match === null) return undefined;
  const base = match[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
  const offset = match[3] === undefined ? 0 : Number(match[3]) * (match[2] === '-' ? -1 : 1);
  const n = base + offset;
  return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
}

/**
 * The number of a signal given by name or number. 0 is accepted where `allowZero` is set (it
 * probes for existence without sending anything). Throws a TypeError for an unknown name and a
 * RangeError for a number that is not a signal.
 */
export function signalNumber(signal: unknown, option: string, allowZero = false): number {
  if (typeof signal === 'string') {
    const n = byName.get(signal) ?? realtimeNumber(signal);
    if (n !== undefined) return n;
    throw Object.assign(
      new TypeError(
        `The \`${option}\` option must be a signal name such as 'SIGTERM' or a number; ` +
          `got unknown signal ${JSON.stringify(signal)}`,
      ),
      { code: 'ERR_UNKNOWN_SIGNAL' },
    );
  }
  if (typeof signal === 'number') {
    const low = allowZero ? 0 : 1;
    if (Number.isInteger(signal) && signal >= low && signal <= MAX_SIGNAL) return signal;
    throw Object.assign(
      new RangeError(
        `The \`${option}\` option must be an integer from ${low} to ${MAX_SIGNAL} ` +
          `or a signal name; got ${signal}`,
      ),
      { code: 'ERR_OUT_OF_RANGE' },
    );
  }
  throw Object.assign(
    new TypeError(
      `The \`${option}\` option must be a signal name such as 'SIGTERM' or a number; ` +
        `got ${typeof signal}`,
    ),
    { code: 'ERR_INVALID_ARG_TYPE' },
  );
}

/** The name of a signal number: 'SIGTERM', 'SIGRTMIN+3'; a bare number as a last resort. */
export function signalName(n: number): string {
  const name = byNumber.get(n);
  if (name !== undefined) return name;
  if (n >= SIGRTMIN && n <= SIGRTMAX) return n === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${n - SIGRTMIN}`;
  return `SIG${n}`;
}
