// The first thing the `pidfd` command does: keep SIGUSR1 from opening Node's inspector.
//
// Node answers SIGUSR1 by starting its inspector on 127.0.0.1:9229, where any local user can
// connect and run code as whoever runs pidfd, unless a 'SIGUSR1' listener is installed (then the
// signal is an ordinary one). main.ts imports this module before anything else, so the listener
// is in place before the rest of pidfd (the addon, the library) is even loaded. `--disable-sigusr1`
// does the same only from Node 22.14 / 23.7 on, and cannot be given to a `#!/usr/bin/env node`
// script portably.
//
// The listener stays for the whole life of the process. While a command's own listener is
// installed too (`pidfd run` forwards SIGUSR1 to the command it runs), it does nothing. Alone,
// it does what SIGUSR1 does to a program that does not catch it: the process dies of it (exit
// 138 in a shell). Removing the last listener makes libuv restore the default action (SIG_DFL),
// and the signal sent again to ourselves then ends the process as the first one would have.

import { createRequire } from 'node:module';

function onSigusr1(): void {
  if (process.listenerCount('SIGUSR1') > 1) return;
  process.off('SIGUSR1', onSigusr1);
  process.kill(process.pid, 'SIGUSR1');
  // Not reached where the default action applies; should it not, never keep running as if the
  // signal had not come.
  process.exit(128 + 10);
}

process.on('SIGUSR1', onSigusr1);

// A SIGUSR1 that came during Node's own startup, before this line could run, has opened the
// inspector already, or is about to: Node starts it twice, from an interrupt of the main thread
// (while JavaScript runs) and from a callback of the event loop (at its first turn), and each
// start opens it again after a close. Unless whoever started pidfd asked for it (node --inspect
// ...), it is closed now and once the event loop has turned (setImmediate runs after that
// callback). Best effort: a start that Node's signal thread makes later still (it was not
// scheduled for the whole of the startup) is not seen.
const asked = /(^|\s)--inspect(-brk|-wait)?(=|\s|$)/;
if (process.features.inspector && !process.execArgv.some((a) => asked.test(a)) && !asked.test(process.env.NODE_OPTIONS ?? '')) {
  let said = false;
  const closeInspector = (): void => {
    try {
      const inspector = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
      if (inspector.url() === undefined) return;
      inspector.close();
      if (!said) process.stderr.write('pidfd: closed the Node inspector that a SIGUSR1 opened while pidfd was starting\n');
      said = true;
    } catch {
      // A runtime without node:inspector has no inspector to close.
    }
  };
  closeInspector();
  setImmediate(closeInspector).unref();
}
