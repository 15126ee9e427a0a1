// The two child_process modules the compat scenarios compare: pidfd/child_process and Node's own.
// Each operation starts what child_process users start and resolves at the event they wait for.

import * as nodeChildProcess from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// PIDFD_BENCH_COMPAT points at another build of the module (its dist/compat/child_process.js).
const compatUrl = process.env.PIDFD_BENCH_COMPAT
  ? pathToFileURL(process.env.PIDFD_BENCH_COMPAT).href
  : new URL('../../dist/compat/child_process.js', import.meta.url).href;
const compat = await import(compatUrl);

/** name -> the module. */
export const compatModules = { 'pidfd/child_process': compat, child_process: nodeChildProcess };

/** The child of the fork scenario: answers one message, then disconnects (and so exits). */
export const ipcEcho = join(dirname(fileURLToPath(import.meta.url)), 'ipc-echo.cjs');

/** The operations timed, per module: each returns a promise of its end (or is synchronous). */
export const operations = {
  /** spawn('/bin/true', [], { stdio: 'ignore' }) until 'exit'. */
  spawnExit(cp) {
    return new Promise((resolve, reject) => {
      const child = cp.spawn('/bin/true', [], { stdio: 'ignore' });
      child.once('exit', resolve);
      child.once('error', reject);
    });
  },
  /** spawn('/bin/true') with the default stdio (three pipes) until 'close'. */
  spawnClose(cp) {
    return new Promise((resolve, reject) => {
      const child = cp.spawn('/bin/true');
      child.once('close', resolve);
      child.once('error', reject);
    });
  },
  /** execFile('/bin/true') until its callback. */
  execFile(cp) {
    return new Promise((resolve, reject) => cp.execFile('/bin/true', (error) => (error ? reject(error) : resolve())));
  },
  /** execFileSync('/bin/true'). */
  execFileSync(cp) {
    cp.execFileSync('/bin/true');
  },
  /** fork() of a Node child, one message there and back, then its exit. */
  forkRoundTrip(cp) {
    return new Promise((resolve, reject) => {
      const child = cp.fork(ipcEcho, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      child.once('error', reject);
      child.once('message', (message) => {
        if (message !== 'ping') reject(new Error(`unexpected reply ${message}`));
      });
      child.once('exit', resolve);
      child.send('ping');
    });
  },
};
