// Output capture: a child's stdout or stderr read into memory, at most maxBuffer bytes of each,
// and both together in the order they arrived (`all`); then decoded as the options say.

import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** The captured output of one stream (or of both, for `all`), as the result gives it. */
export type Output = string | Buffer | string[];

/** One stream being captured. */
export class Capture {
  readonly chunks: Buffer[] = [];
  length = 0;
  /** Whether the stream had more than maxBuffer bytes (what is kept stops there). */
  exceeded = false;
  /** Resolves when the stream has closed (its fd too). */
  readonly done: Promise<void>;
  readonly #stream: Readable;
  readonly #max: number;
  readonly #all: Buffer[] | null;
  readonly #onExceed: () => void;
  #onData: ((chunk: Buffer) => void) | null;

  constructor(stream: Readable, max: number, all: Buffer[] | null, onExceed: () => void) {
    this.#stream = stream;
    this.#max = max;
    this.#all = all;
    this.#onExceed = onExceed;
    this.#onData = (chunk) => this.#add(chunk);
    stream.on('data', this.#onData);
    // A read error (it would be EIO or ECONNRESET) ends the capture like EOF does.
    stream.on('error', () => {});
    this.done = new Promise((resolve) => stream.once('close', resolve));
  }

  #add(chunk: Buffer): void {
    if (this.exceeded) return; // read on and drop: the tree is being killed
    if (this.length + chunk.length > this.#max) {
      const kept = chunk.subarray(0, this.#max - this.length);
      if (kept.length > 0) {
        this.chunks.push(kept);
        this.#all?.push(kept);
      }
      this.length = this.#max;
      this.exceeded = true;
      this.#onExceed();
      return;
    }
    this.chunks.push(chunk);
    this.#all?.push(chunk);
    this.length += chunk.length;
  }

  /** Whether anything has been read from the stream yet. */
  get started(): boolean {
    return this.length > 0 || this.exceeded;
  }

  /** Stops capturing and hands over the stream with what was read so far: the stream is no
   * longer read here (it is paused until its new reader reads it). */
  take(): { stream: Readable; chunks: Buffer[] } {
    if (this.#onData !== null) this.#stream.off('data', this.#onData);
    this.#onData = null;
    this.#stream.pause();
    const chunks = this.chunks.splice(0);
    this.length = 0;
    return { stream: this.#stream, chunks };
  }

  /** Gives up on the rest of the stream (its writers are out of reach): `done` resolves. */
  abandon(): void {
    this.#stream.destroy();
  }
}

/** Captured bytes as the result gives them: a Buffer, a string, or lines. */
export function decodeOutput(
  chunks: readonly Buffer[],
  length: number,
  o: { encoding: 'utf8' | 'buffer'; lines: boolean; stripFinalNewline: boolean },
): Output {
  let bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks as Buffer[], length);
  if (o.encoding === 'buffer') {
    if (o.stripFinalNewline && bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) {
      bytes = bytes.subarray(0, bytes.length - (bytes.length > 1 && bytes[bytes.length - 2] === 0x0d ? 2 : 1));
    }
    return bytes;
  }
  const text = bytes.toString('utf8');
  if (o.lines) return splitLines(text);
  if (o.stripFinalNewline && text.endsWith('\n')) return text.slice(0, text.endsWith('\r\n') ? -2 : -1);
  return text;
}

/** Lines without their '\n' (or '\r\n'); no empty last line for a final newline. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  return lines;
}

/** The lines of `chunks` and then of `stream` as they arrive (the last one even without a
 * final newline). */
export async function* readLines(chunks: readonly Buffer[], stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  function* split(text: string): Generator<string> {
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      const line = text.slice(start, end);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
      start = end + 1;
    }
    rest = text.slice(start);
  }
  for (const chunk of chunks) yield* split(rest + decoder.write(chunk));
  for await (const chunk of stream) yield* split(rest + decoder.write(chunk as Buffer));
  rest += decoder.end();
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
