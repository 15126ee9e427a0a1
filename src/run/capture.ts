// Output capture: a child's stdout or stderr read into memory, at most maxBuffer bytes of each,
// and both together in the order they arrived (`all`); then decoded as the options say.
//
// Every read of every capture lands in one shared buffer (net.Socket's `onread`) and is copied
// out at once into the capture's store: no Buffer per read, and no final concatenation for large
// outputs, whose store is one resizable ArrayBuffer that grows in place, on huge pages where the
// kernel has them. A gigabyte captured is then a gigabyte of memory touched once, as a C read
// loop into a realloc'd buffer does, instead of the chunks and then their copy.
//
// Over 350 lines for that reason: the store (ByteStore), the line limit (LineLimit) and the
// reader (Capture) are one mechanism around the shared read buffer, and decodeOutput() reads the
// store's layout; they change together.

import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import { binding } from '../binding.js';
import { portableEngine } from '../engine-choice.js';
import { runtime } from '../runtime.js';
import { fsPipeStream, readsItsFd, socketsMayReadFds } from '../process/pipe-stream.js';
import { isTextEncoding, type CanonicalEncoding } from './options.js';
import { growPipe } from './pipe-size.js';

/** The captured output of one stream (or of both, for `all`), as the result gives it. */
export type Output = string | Buffer | string[];

/** The largest Buffer this Node can make (buffer.constants.MAX_LENGTH, and what a resizable
 * ArrayBuffer can reserve): a capture never holds more. */
export const MAX_CAPTURE = 2 ** 32;

/** Past this many bytes a store moves to one resizable ArrayBuffer. */
const SPILL = 1 << 20;

const READ_SIZE = 64 * 1024;
let readBuffer: Buffer | undefined;

/** The buffer every capture of this environment reads into: reads and their callbacks are serial
 * in one event loop, and a read's bytes are copied out before the callback returns. */
function sharedReadBuffer(): Buffer {
  return (readBuffer ??= Buffer.allocUnsafe(READ_SIZE));
}

/** Bytes kept in order: small outputs as chunks; past SPILL, one resizable ArrayBuffer reserved
 * up to the limit and committed as it grows, so that growing never copies. */
export class ByteStore {
  length = 0;
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #buffer: ArrayBuffer | null = null;
  #view: Uint8Array | null = null;
  /** For `all`: which stream each stretch of the bytes came from, as [source, length, ...]. */
  readonly #runs: number[] | null;

  /** `interleaved`: the bytes come from several streams (`all`), each decoded on its own. */
  constructor(limit: number, interleaved = false) {
    this.#limit = Math.min(limit, MAX_CAPTURE);
    this.#runs = interleaved ? [] : null;
  }

  /** Copies `bytes` (valid only during the call) of stream `source` to the end. */
  append(bytes: Uint8Array, source = 0): void {
    const runs = this.#runs;
    if (runs !== null && bytes.length > 0) {
      if (runs.length > 0 && runs[runs.length - 2] === source) runs[runs.length - 1]! += bytes.length;
      else runs.push(source, bytes.length);
    }
    this.#put(bytes);
  }

  #put(bytes: Uint8Array): void {
    const end = this.length + bytes.length;
    if (this.#view === null && end <= SPILL) {
      this.#chunks.push(Buffer.from(bytes));
      this.length = end;
      return;
    }
    if (this.#view === null) this.#spill();
    const buffer = this.#buffer as ArrayBuffer & { resize(n: number): void; maxByteLength: number };
    if (end > buffer.byteLength) buffer.resize(Math.min(Math.max(end, buffer.byteLength * 2), buffer.maxByteLength));
    this.#view!.set(bytes, this.length);
    this.length = end;
  }

  #spill(): void {
    const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;
    const reserved = Math.max(this.#limit, SPILL * 2);
    this.#buffer = new Resizable(0, { maxByteLength: reserved });
    // V8 reserves a resizable ArrayBuffer's whole maxByteLength as one mapping and commits it as
    // it grows: huge pages there make a large capture take a page fault per 2 MiB instead of per
    // 4 KiB, which is most of its cost on a VM (docs/benchmarks.md). Only where that layout is
    // known: the advice covers `reserved` bytes from the buffer's start.
    if (runtime === 'node' && !portableEngine()) binding().adviseHugePages(this.#buffer, reserved);
    this.#view = new Uint8Array(this.#buffer); // tracks the buffer's length as it grows
    const chunks = this.#chunks;
    this.#chunks = [];
    this.length = 0;
    for (const chunk of chunks) this.#put(chunk);
  }

  /** Everything, as one Buffer. */
  bytes(): Buffer {
    if (this.#buffer !== null) {
      (this.#buffer as ArrayBuffer & { resize(n: number): void }).resize(this.length);
      return Buffer.from(this.#buffer, 0, this.length);
    }
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.length);
  }

  /** Everything, decoded. Interleaved, each stream's stretches are decoded in its own decoder: a
   * character that a read of one stream cut, with the other's bytes in between, stays whole
   * (it comes where its last byte came). */
  text(encoding: 'utf8' | 'utf16le' | 'latin1' | 'ascii'): string {
    const bytes = this.bytes();
    const runs = this.#runs;
    if (runs === null || runs.length <= 2) return bytes.toString(encoding);
    const decoders = new Map<number, { decoder: StringDecoder; odd: Buffer | null }>();
    const parts: string[] = [];
    for (let i = 0, at = 0; i < runs.length; at += runs[i + 1]!, i += 2) {
      let state = decoders.get(runs[i]!);
      if (state === undefined) decoders.set(runs[i]!, (state = { decoder: new StringDecoder(encoding), odd: null }));
      let piece = bytes.subarray(at, at + runs[i + 1]!);
      if (encoding === 'utf16le') {
        // Whole code units only: Node's utf16le decoder splits a surrogate pair that it is given
        // byte by byte. A byte left over waits for the stream's next stretch.
        if (state.odd !== null) piece = Buffer.concat([state.odd, piece]);
        state.odd = piece.length % 2 === 1 ? Buffer.from(piece.subarray(piece.length - 1)) : null;
        if (state.odd !== null) piece = piece.subarray(0, piece.length - 1);
      }
      parts.push(state.decoder.write(piece));
    }
    for (const { decoder, odd } of decoders.values()) parts.push(odd === null ? decoder.end() : decoder.end(odd));
    return parts.join('');
  }
}

/** ascii, decoded, drops each byte's high bit here (Node): 0x8a is a newline too. */
const asciiDropsHighBit = Buffer.from([0x8a]).toString('ascii') === '\n';

/**
 * maxBuffer in lines (`lines: true`): counts the newlines of a stream in its encoding, as the
 * bytes arrive, and says where the last line allowed ends. A line is more than the limit as soon
 * as its first byte arrives (the text after the last newline is a line of the result too).
 */
export class LineLimit {
  /** Newlines still allowed. */
  #left: number;
  readonly #encoding: CanonicalEncoding;
  /** utf16le: the stream's bytes so far are odd in number; the last one is the first half of a
   * code unit. */
  #odd = false;
  #oddByte = 0;

  constructor(max: number, encoding: CanonicalEncoding) {
    this.#left = max;
    this.#encoding = encoding;
  }

  /** How many bytes of `bytes` (the next of the stream) are within the limit: all of them, or
   * fewer (the limit is exceeded: what follows the last line allowed). */
  keep(bytes: Uint8Array): number {
    if (bytes.length === 0) return 0;
    if (this.#left === 0) return 0;
    if (this.#encoding === 'utf16le') return this.#keepUtf16(bytes);
    if (this.#encoding === 'ascii' && asciiDropsHighBit) {
      for (let i = 0; i < bytes.length; i++) {
        if ((bytes[i]! & 0x7f) === 0x0a && --this.#left === 0) return i + 1;
      }
      return bytes.length;
    }
    // utf8, latin1: the byte 0x0a (never inside a utf8 sequence), found at memchr speed.
    for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
      if (--this.#left === 0) return i + 1;
    }
    return bytes.length;
  }

  /** utf16le: a newline is the code unit 0x000a, at an even offset of the stream. */
  #keepUtf16(bytes: Uint8Array): number {
    let i = 0;
    if (this.#odd) {
      this.#odd = false;
      i = 1;
      if (this.#oddByte === 0x0a && bytes[0] === 0 && --this.#left === 0) return 1;
    }
    for (; i + 1 < bytes.length; i += 2) {
      if (bytes[i] === 0x0a && bytes[i + 1] === 0 && --this.#left === 0) return i + 2;
    }
    if (i < bytes.length) {
      this.#odd = true;
      this.#oddByte = bytes[i]!;
    }
    return bytes.length;
  }
}

/** One stream being captured, from the read end of a pipe whose write end the child has. */
export class Capture {
  readonly store: ByteStore;
  /** Whether the stream went beyond maxBuffer, and in what: its bytes, or its lines (with
   * `lines: true`). What is kept stops there. */
  exceeded: false | 'bytes' | 'lines' = false;
  /** maxBuffer in lines, with `lines: true`. */
  readonly #lines: LineLimit | null;
  /** Resolves when the stream has closed (its fd too). */
  readonly done: Promise<void>;
  /** The read end: a net.Socket reading into the shared buffer, or (where sockets do not read
   * fds: Bun) an fs stream whose chunks are copied the same way. */
  readonly #socket: Readable & { bytesRead: number };
  /** Starts reading again after a read returned false. */
  readonly #resume: () => void;
  readonly #max: number;
  readonly #all: ByteStore | null;
  readonly #onExceed: () => void;
  /** Where reads go once an iteration took the stream: a copy of each; false pauses reading. */
  #sink: ((chunk: Buffer) => boolean) | null = null;
  #closed = false;
  #resolveDone!: () => void;
  /** Where sockets do not read fds: an fs read may be under way from the next tick on, and
   * cannot be called back (a blocking read in the thread pool). */
  #fsReading = false;

  readonly #source: number;
  /** The pipe's read end while it may still be grown (pipe-size.ts): until a read finds the pipe
   * full, which says the writer is ahead of us. */
  #growable: number | null;
  #giveBack: (() => void) | null = null;
  /** Sees every read as it comes (`verbose: 'full'`). */
  readonly #tap: ((bytes: Uint8Array) => void) | undefined;

  /** `max` bytes at most, and, with `lines`, as many lines as it says; what is kept also goes to
   * `all` (as stream `source`); `tap` sees every read. `fd`: the read end of the pipe, or (the
   * portable engine) the stream Node's child_process made on it. */
  constructor(
    fd: number | Readable,
    max: number,
    all: ByteStore | null,
    onExceed: () => void,
    lines: LineLimit | null = null,
    source = 0,
    tap?: (bytes: Uint8Array) => void,
  ) {
    this.#max = Math.min(max, MAX_CAPTURE);
    this.#tap = tap;
    this.#source = source;
    this.#growable = typeof fd === 'number' ? fd : null;
    this.#lines = lines;
    this.store = new ByteStore(this.#max);
    this.#all = all;
    this.#onExceed = onExceed;
    // `onread` (Node 12.12+) is missing from @types/node's SocketConstructorOpts.
    const options = {
      fd,
      readable: true,
      writable: false,
      onread: { buffer: sharedReadBuffer(), callback: (n: number, buffer: Uint8Array) => this.#read(buffer.subarray(0, n)) },
    };
    let socket: Socket | null = null;
    if (typeof fd === 'number' && socketsMayReadFds()) {
      socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
      if (!readsItsFd(socket)) socket = null;
    }
    if (typeof fd !== 'number') {
      const stream = fd as Readable & { bytesRead: number };
      stream.on('data', (chunk: Buffer) => {
        if (!this.#read(chunk)) stream.pause();
      });
      this.#socket = stream;
      this.#resume = () => stream.resume();
    } else if (socket !== null) {
      this.#socket = socket;
      this.#resume = () => socket.read(0);
    } else {
      const stream = fsPipeStream(fd, false) as unknown as Readable & { bytesRead: number };
      stream.on('data', (chunk: Buffer) => {
        if (!this.#read(chunk)) stream.pause();
      });
      this.#socket = stream;
      this.#resume = () => stream.resume();
      // The stream's first read is queued for the next tick (before this): from then on the
      // stream is no longer whole, and pipe() must say so rather than lose what that read takes.
      process.nextTick(() => {
        this.#fsReading = true;
      });
    }
    // A read error (it would be EIO or ECONNRESET) ends the capture as EOF does.
    this.#socket.on('error', () => {});
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
      this.#socket.once('close', () => {
        this.#closed = true;
        this.#giveBack?.();
        resolve();
      });
    });
  }

  #read(bytes: Uint8Array): boolean {
    if (this.#growable !== null && bytes.length === READ_SIZE) {
      this.#giveBack = growPipe(this.#growable);
      this.#growable = null;
    }
    this.#tap?.(bytes);
    if (this.#sink !== null) return this.#sink(Buffer.from(bytes));
    if (this.exceeded) return true; // read on and drop: the tree is being killed
    const lines = this.#lines?.keep(bytes) ?? bytes.length;
    if (lines < bytes.length || this.store.length + bytes.length > this.#max) {
      const room = this.#max - this.store.length;
      const kept = bytes.subarray(0, Math.min(lines, room));
      this.store.append(kept);
      this.#all?.append(kept, this.#source);
      this.exceeded = lines <= room ? 'lines' : 'bytes';
      this.#onExceed();
      return true;
    }
    this.store.append(bytes);
    this.#all?.append(bytes, this.#source);
    return true;
  }

  /** Whether anything has been read from the stream yet. */
  get started(): boolean {
    return this.store.length > 0 || this.exceeded !== false || this.#fsReading || this.#socket.bytesRead > 0;
  }

  /** The stream, to hand to another child (pipe()): nothing may have been read yet. */
  get socket(): Readable {
    return this.#socket;
  }

  /**
   * Stops capturing: what was captured so far, then every later read, as Buffers. Reading
   * pauses while 16 chunks wait for the consumer.
   */
  take(): AsyncGenerator<Buffer> {
    const socket = this.#socket;
    const resume = this.#resume;
    const queue: Buffer[] = this.store.length > 0 ? [this.store.bytes()] : [];
    let paused = false;
    let ended = this.#closed;
    let wake: (() => void) | null = null;
    const signal = (): void => {
      wake?.();
      wake = null;
    };
    this.#sink = (chunk) => {
      queue.push(chunk);
      signal();
      paused = queue.length >= 16;
      return !paused;
    };
    socket.once('close', () => {
      ended = true;
      signal();
    });
    return (async function* chunks(): AsyncGenerator<Buffer> {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        if (paused) {
          paused = false;
          resume(); // reading starts again
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    })();
  }

  /**
   * Reads on and drops what comes, after an iteration that took the stream was left: the reads
   * keep going (a writer never blocks on a full pipe, and the reading keeps the event loop
   * alive) until the writers are gone and the stream closes.
   */
  drain(): void {
    this.#sink = () => true;
    this.#resume();
  }

  /** Gives up on the rest of the stream (its writers are out of reach): `done` resolves. */
  abandon(): void {
    this.#socket.destroy();
    // An fs read under way ends only when a writer writes or the last one exits, which is what
    // is being given up on: its fd is closed whenever that read returns.
    if (this.#fsReading) {
      this.#closed = true;
      this.#resolveDone();
    }
  }
}

/** Captured bytes as the result gives them: a Buffer, a string in the encoding, or lines. */
export function decodeOutput(
  store: ByteStore,
  o: { encoding: CanonicalEncoding; lines: boolean; stripFinalNewline: boolean },
): Output {
  const encoding = o.encoding;
  if (!isTextEncoding(encoding)) {
    let bytes = store.bytes();
    // Bytes: a final newline goes before they are written out ('hex', 'base64', ...).
    if (o.stripFinalNewline && bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) {
      bytes = bytes.subarray(0, bytes.length - (bytes.length > 1 && bytes[bytes.length - 2] === 0x0d ? 2 : 1));
    }
    return encoding === 'buffer' ? bytes : bytes.toString(encoding);
  }
  // Decoded at the end, whole (each stream of `all` on its own): no character is cut where two
  // reads met.
  const text = store.text(encoding);
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

/** The lines of `chunks` as they arrive (the last one even without a final newline). A stream
 * destroyed before its end ends the lines too. */
export async function* readLines(chunks: AsyncIterable<Buffer | string>, encoding: CanonicalEncoding = 'utf8'): AsyncGenerator<string> {
  // Text in the run's encoding; bytes that `encoding` writes out ('hex', ...) are read as utf8.
  const decoder = new StringDecoder(isTextEncoding(encoding) ? encoding : 'utf8');
  let rest = '';
  try {
    for await (const chunk of chunks) {
      const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        const line = text.slice(start, end);
        yield line.endsWith('\r') ? line.slice(0, -1) : line;
        start = end + 1;
      }
      rest = text.slice(start);
    }
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  }
  rest += decoder.end();
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
