// NODE_DEBUG=pidfd: the lines that say which engine was chosen and what register did.
//
// node:util is loaded only when those lines are asked for: imported from an ES module, it loads
// node:worker_threads on Node 22, and every process started with --import pidfd/register would
// pay for that (test/compat/register.test.js checks that registering loads nothing of the kind).

import { createRequire } from 'node:module';

let log: ((format: string, ...args: unknown[]) => void) | null | undefined;

/** Writes a NODE_DEBUG=pidfd line (util.debuglog's format), or nothing. */
export function debug(format: string, ...args: unknown[]): void {
  if (log === undefined) {
    // A first look at the variable; util.debuglog then applies NODE_DEBUG's own rules.
    const wanted = /pidfd|\*/i.test(process.env.NODE_DEBUG ?? '');
    log = wanted ? (createRequire(import.meta.url)('node:util') as typeof import('node:util')).debuglog('pidfd') : null;
  }
  log?.(format, ...args);
}
