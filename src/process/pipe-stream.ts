// The stream on the parent's end of a child's pipe or socketpair.

import { ReadStream } from 'node:fs';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';

import { binding } from '../binding.js';
import { systemError } from '../errors.js';

/**
 * Whether a net.Socket made on an fd reads it: learnt from the first readable pipe, then kept.
 * Node and Deno adopt the fd into their event loop at once (the socket is not `pending`); Bun
 * makes a socket that stays `pending` and never emits 'data' or 'end' on a pipe or a socketpair,
 * and whose destroy() leaves the fd open (docs/runtimes.md).
 */
let socketsReadFds: boolean | undefined;

// fs.ReadStream's constructor, which @types/node does not declare.
type FsReadStreamClass = new (path: null, options: { fd: number; autoClose: boolean }) => ReadStream;

/**
 * An fs read stream on a pipe that ends, and closes its fd, as soon as the pipe is at its end
 * even while nobody reads it, as a net.Socket does: at end of file it reads once more, which
 * ends a stream whose buffer is empty. (A plain fs stream reads only when asked: a child's
 * unread and empty stdout would keep its fd open for the life of the Subprocess.)
 */
class PipeReadStream extends (ReadStream as unknown as FsReadStreamClass) {
  constructor(fd: number) {
    // With `fd`, the path is not used (Node's own docs pass null).
    super(null, { fd, autoClose: true });
    this.read(0);
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    const more = super.push(chunk, encoding);
    if (chunk === null) process.nextTick(() => this.read(0));
    return more;
  }
}

/**
 * A stream that owns `fd` (closed when the stream is destroyed): a net.Socket, which adopts the
 * fd into the event loop non-blocking, wherever that reads; elsewhere (Bun) the readable side is
 * an fs stream, and a socketpair that is both is joined from two fds (the second a close-on-exec
 * dup, each closed by its own side).
 */
export function pipeStream(fd: number, readable: boolean, writable: boolean): Duplex {
  if (!readable) return new Socket({ fd, readable, writable });
  if (socketsMayReadFds()) {
    const socket = new Socket({ fd, readable, writable });
    if (readsItsFd(socket)) return socket;
  }
  return fsPipeStream(fd, writable);
}

/** Whether a net.Socket made on an fd may read it (not yet known, or known to). */
export function socketsMayReadFds(): boolean {
  return socketsReadFds !== false;
}

/**
 * Whether `socket`, just made on a readable fd, reads it; learnt from the first one. If not, it
 * is destroyed, and its fd is left open for an fs stream to take.
 */
export function readsItsFd(socket: Socket): boolean {
  socketsReadFds ??= !socket.pending;
  if (!socketsReadFds) socket.destroy(); // never adopted the fd: it stays open
  return socketsReadFds;
}

/** The stream on a readable fd where sockets do not read fds (Bun): an fs stream; for a
 * socketpair (`writable`), joined with a write-only socket. */
export function fsPipeStream(fd: number, writable: boolean): Duplex {
  if (!writable) return new PipeReadStream(fd) as unknown as Duplex;
  const second = binding().dup(fd);
  if (second < 0) throw systemError(-second, 'fcntl', { context: `pidfd: a second fd for the socketpair at fd ${fd}` });
  const readSide = new PipeReadStream(second);
  const writeSide = new Socket({ fd, readable: false, writable: true });
  const joined = Duplex.from({ readable: readSide, writable: writeSide });
  // Each side owns its fd and closes it when destroyed: the joined stream's end is each side's
  // (Bun's Duplex.from does not always pass its destroy on, and then both fds stayed open).
  joined.once('close', () => {
    readSide.destroy();
    writeSide.destroy();
  });
  return joined;
}
