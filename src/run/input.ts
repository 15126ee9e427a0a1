// The `input` option: what is written to the child's stdin, which is then closed.

import { Readable, type Writable } from 'node:stream';

import type { RunInput } from './options.js';

/** Errors of a stdin whose reader has gone: the child did not want (all of) its input. */
const readerGone = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Writes `input` to `stdin` and closes it. A child that exits or closes its stdin without
 * reading everything is not an error (as with a shell's `<<<`). `onError` gets an error of the
 * input itself: a Readable or an iterator that failed.
 */
export function feedInput(stdin: Writable, input: RunInput, onError: (error: Error) => void): void {
  stdin.on('error', (error: Error & { code?: string }) => {
    if (!readerGone.has(error.code ?? '')) onError(error);
  });
  if (typeof input === 'string' || input instanceof Uint8Array) {
    stdin.end(input);
    return;
  }
  const ours = !(input instanceof Readable);
  const source = ours ? Readable.from(input as AsyncIterable<string | Uint8Array>, { objectMode: false }) : (input as Readable);
  source.once('error', onError);
  // A source we made is ours to stop when the child stops reading; a stream the caller gave
  // stays theirs (it may be process.stdin), only unpiped.
  if (ours) stdin.once('close', () => source.destroy());
  source.pipe(stdin);
}
