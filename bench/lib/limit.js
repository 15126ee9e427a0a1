// Client of the C limit server (bench/c/limit.c): one command per line, one JSON line back.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A running limit server, holding `gib` GiB of touched memory. */
export class LimitServer {
  #child;
  #lines;

  static async start(path, gib = 0) {
    const server = new LimitServer();
    server.#child = spawn(path, ['--mem-gib', String(gib)], { stdio: ['pipe', 'pipe', 'inherit'] });
    server.#lines = createInterface({ input: server.#child.stdout })[Symbol.asyncIterator]();
    const hello = await server.#next();
    if (!hello.ready) throw new Error('limit server did not start');
    return server;
  }

  async #next() {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error('limit server exited');
    return JSON.parse(value);
  }

  /** Sends one command and returns its JSON answer. */
  async command(line) {
    this.#child.stdin.write(`${line}\n`);
    const answer = await this.#next();
    if (answer.error) throw new Error(`limit server: ${answer.error} (${line})`);
    return answer;
  }

  /** n sequential spawns with `backend`: per-spawn latencies in ns, and the server's CPU time
   * for all of them (ns). */
  async sequential(backend, n) {
    const { lat, cpu_ns: cpuNs } = await this.command(`seq ${backend} ${n}`);
    return { lat, cpuNs };
  }

  /** n spawns, `inflight` at a time: the total wall time (ns), the server's CPU time for them and
   * their children's (ns). */
  async inflight(backend, n, inflight) {
    const { ns, cpu_ns: cpuNs, children_cpu_ns: childrenNs } = await this.command(`par ${backend} ${n} ${inflight}`);
    return { ns, cpuNs, childrenNs };
  }

  /** k release helpers, child i exiting i * gapUs after the release; reaped through pidfds. */
  async reap(k, helper, dir, gapUs) {
    return this.command(`reap ${k} ${helper} ${dir} ${gapUs}`);
  }

  async stop() {
    this.#child.stdin.end('quit\n');
    await new Promise((resolve) => this.#child.once('exit', resolve));
  }
}
