// Children that exit together (Node side of bench/c/release.c).
//
// Every child opens three FIFOs: it writes a byte to `ready`, blocks reading `release` until the
// parent closes it, then writes its CLOCK_MONOTONIC exit time to `done` and exits. The parent
// holds each FIFO open read-write (so no open blocks), waits for K ready bytes, and closes
// `release`: every child sees EOF at once.

import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';

import { sleep } from './clock.js';

/** A set of FIFOs for one batch of children. */
export class ReleaseGate {
  constructor(helper) {
    this.helper = helper;
    this.dir = mkdtempSync(join(tmpdir(), 'pidfd-bench-'));
    const names = ['release', 'ready', 'done'].map((n) => join(this.dir, n));
    execFileSync(helper, ['--mkfifo', ...names]);
    /** The helper's arguments for a child that exits at the release. */
    this.args = names;
    const flags = constants.O_RDWR | constants.O_NONBLOCK;
    [this.releaseFd, this.readyFd, this.doneFd] = names.map((n) => openSync(n, flags));
  }

  /** The helper's arguments for a child that exits delayUs after the release. */
  argsFor(delayUs) {
    return delayUs > 0 ? [...this.args, String(delayUs)] : this.args;
  }

  /** Resolves once k children have reported ready; rejects after timeoutMs. */
  async waitReady(k, timeoutMs = 120_000) {
    const buf = Buffer.alloc(4096);
    const deadline = Date.now() + timeoutMs;
    for (let got = 0; got < k; ) {
      const n = readAvailable(this.readyFd, buf);
      got += n;
      if (got >= k) break;
      if (Date.now() > deadline) throw new Error(`only ${got} of ${k} children became ready`);
      if (n === 0) await sleep(2);
    }
  }

  /** Releases every child. */
  release() {
    closeSync(this.releaseFd);
    this.releaseFd = -1;
  }

  /** The latest exit time (CLOCK_MONOTONIC ns) reported by k released children. */
  async lastExitNs(k, timeoutMs = 60_000) {
    const buf = Buffer.alloc(k * 8);
    const deadline = Date.now() + timeoutMs;
    let got = 0;
    while (got < buf.length) {
      const n = readAvailable(this.doneFd, buf.subarray(got));
      got += n;
      if (got < buf.length && Date.now() > deadline) throw new Error('children did not report');
      if (n === 0 && got < buf.length) await sleep(2);
    }
    let last = 0n;
    for (let i = 0; i < k; i++) {
      const t = buf[`readBigUInt64${endianness()}`](i * 8); // the helper writes native order
      if (t > last) last = t;
    }
    return Number(last);
  }

  close() {
    for (const fd of [this.releaseFd, this.readyFd, this.doneFd]) if (fd >= 0) closeSync(fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readAvailable(fd, buf) {
  try {
    return readSync(fd, buf, 0, buf.length, null);
  } catch (error) {
    if (error.code === 'EAGAIN') return 0;
    throw error;
  }
}
