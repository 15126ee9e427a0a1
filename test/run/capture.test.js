// Output capture: large outputs intact and in order, `all` in arrival order, maxBuffer.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { run, RunError } from '../../dist/index.js';
import { pidfdOnly } from '../helpers/engine.js';
import { leakFree, python, runFixtures } from './helpers.js';

/** Checks that `bytes` is seq -f '%09.0f' 0 (n - 1): record i is i in nine digits and a newline. */
function assertSequence(bytes, n) {
  assert.equal(bytes.length, n * 10);
  for (let i = 0; i < n; i++) {
    let value = 0;
    const at = i * 10;
    for (let d = 0; d < 9; d++) value = value * 10 + (bytes[at + d] - 48);
    if (value !== i || bytes[at + 9] !== 10) assert.fail(`record ${i} is ${JSON.stringify(bytes.subarray(at, at + 10).toString('latin1'))}`);
  }
}

describe('output capture', () => {
  test('100 MB of stdout arrive intact and in order (as a Buffer, and as a string)', leakFree(async () => {
    const n = 10_000_000; // 10 bytes each: 100,000,000 bytes, exactly the default maxBuffer
    const asBuffer = await run('seq', ['-f', '%09.0f', '0', String(n - 1)], { encoding: 'buffer', stripFinalNewline: false });
    assert.equal(asBuffer.isMaxBuffer, false);
    assertSequence(asBuffer.stdout, n);
    const asText = await run('seq', ['-f', '%09.0f', '0', String(n - 1)]);
    assert.equal(asText.stdout.length, n * 10 - 1, 'the final newline stripped');
    assert.equal(asText.stdout.slice(0, 19), '000000000\n000000001');
    assert.equal(asText.stdout.slice(-9), '009999999');
  }));

  test('a large capture lives on memory advised for huge pages (VmFlags hg): a fault per 2 MiB, not per 4 KiB', pidfdOnly('the advice is the addon\'s (madvise)'), (t) => {
    if (/\[never\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))) {
      return t.skip('transparent huge pages are off here');
    }
    // In a process of its own: no other capture's mapping comes or goes meanwhile.
    const script = `
      import { readFileSync } from 'node:fs';
      import { run } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
      const advised = () => readFileSync('/proc/self/smaps', 'utf8').split('\\n').filter((l) => l.startsWith('VmFlags:') && / hg\\b/.test(l)).length;
      const before = advised();
      const result = await run('head', ['-c', String(8 << 20), '/dev/zero'], { encoding: 'buffer', maxBuffer: 64 << 20 });
      console.log(JSON.stringify({ before, after: advised(), length: result.stdout.length }));`;
    const { before, after, length } = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    assert.equal(length, 8 << 20);
    assert.ok(after > before, `the capture's mapping is advised (MADV_HUGEPAGE): ${before} advised mappings before, ${after} after`);
  });

  test('all: stdout and stderr interleaved in the order they arrived', { skip: python === null && 'no /usr/bin/python3', ...pidfdOnly("the fixture waits on its pipes' FIONREAD, and Node's child_process gives socketpairs") }, leakFree(async () => {
    const n = 40;
    const result = await run(python, [join(runFixtures, 'alternate.py'), String(n)], { all: true, lines: true });
    assert.deepEqual(result.all, Array.from({ length: n }, (_, i) => String(i)));
    assert.deepEqual(result.stdout, Array.from({ length: n / 2 }, (_, i) => String(2 * i)));
    assert.deepEqual(result.stderr, Array.from({ length: n / 2 }, (_, i) => String(2 * i + 1)));
  }));

  test('all with only one stream captured is that stream', leakFree(async () => {
    const result = await run('sh', ['-c', 'echo out; echo err >&2'], { all: true, stderr: 'ignore' });
    assert.equal(result.all, 'out');
    assert.equal(result.stderr, undefined);
  }));

  test('beyond maxBuffer the tree is killed and the error says isMaxBuffer; what fits is kept', leakFree(async () => {
    const error = await run('yes', { maxBuffer: 1000 }).catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.isMaxBuffer, true);
    assert.equal(error.signal, 'SIGTERM');
    assert.equal(error.isTerminated, true);
    assert.equal(error.stdout, 'y\n'.repeat(500).slice(0, -1), 'the first maxBuffer bytes, final newline stripped');
    assert.match(error.shortMessage, /^Command wrote more than maxBuffer \(1000 bytes\) to stdout and was killed with SIGTERM: yes$/);
  }));

  test('maxBuffer applies to stderr too, and to a grandchild that writes', leakFree(async () => {
    const error = await run('sh', ['-c', 'sh -c "yes >&2"; echo unreachable'], { maxBuffer: 10 }).catch((e) => e);
    assert.equal(error.isMaxBuffer, true);
    assert.equal(error.stderr.length, 9, '10 bytes kept, the final newline stripped');
    assert.match(error.shortMessage, /to stderr/);
    assert.equal(error.stdout, '');
  }));

  test('maxBuffer: 0 refuses any output; Infinity keeps everything', leakFree(async () => {
    const none = await run('echo', ['x'], { maxBuffer: 0, reject: false });
    assert.equal(none.isMaxBuffer, true);
    const silent = await run('true', { maxBuffer: 0 });
    assert.equal(silent.failed, false, 'a command that writes nothing is within any limit');
    const all = await run('head', ['-c', '200000', '/dev/zero'], { maxBuffer: Infinity, encoding: 'buffer' });
    assert.equal(all.stdout.length, 200000);
  }));
});

/** A shell command that writes `bytes` one byte per write: a character of several bytes
 * reaches this process in pieces wherever the reads fall. */
function byteByByte(bytes) {
  return ['sh', ['-c', [...bytes].map((b) => `printf '\\${b.toString(8).padStart(3, '0')}'`).join('; ')]];
}

describe('encodings', () => {
  // Characters of 2, 3 and 4 bytes in utf8 and a surrogate pair in utf16le, then bytes that are
  // no valid utf8 (0xff) and that ascii reads without their high bit (0x8a).
  const bytes = Buffer.concat([Buffer.from('aé€😀\nz', 'utf16le'), Buffer.from('é€😀'), Buffer.from([0xff, 0x8a, 0x41])]);
  const text = ['utf8', 'utf-8', 'UTF8', 'utf16le', 'utf-16le', 'ucs2', 'ucs-2', 'latin1', 'binary', 'ascii'];
  const written = ['hex', 'base64', 'base64url'];
  for (const encoding of [...text, ...written]) {
    test(`encoding: '${encoding}' gives what Buffer#toString('${encoding}') gives of the whole output`, leakFree(async () => {
      assert.ok(Buffer.isEncoding(encoding));
      const [file, args] = byteByByte(bytes);
      const result = await run(file, args, { encoding, all: true });
      assert.equal(result.stdout, bytes.toString(encoding));
      assert.equal(result.all, bytes.toString(encoding));
      assert.equal(result.stderr, '');
    }));
  }

  test('a final newline is stripped from text in any text encoding; bytes written out keep theirs', leakFree(async () => {
    const utf16 = Buffer.from('x\r\n', 'utf16le');
    const [file, args] = byteByByte(utf16);
    assert.equal((await run(file, args, { encoding: 'utf16le' })).stdout, 'x');
    assert.equal((await run('printf', ['x\\n'], { encoding: 'latin1' })).stdout, 'x');
    assert.equal((await run('printf', ['x\\n'], { encoding: 'hex' })).stdout, '780a');
    assert.equal((await run('printf', ['x\\n'], { encoding: 'base64', stripFinalNewline: true })).stdout, Buffer.from('x').toString('base64'));
  }));

  test("lines in utf16le: split on the code unit '\\n', not on a byte 0x0a inside a character", leakFree(async () => {
    const lines = ['a', 'ਊ', '😀 b']; // U+0A0A: bytes 0a 0a in utf16le
    const [file, args] = byteByByte(Buffer.from(`${lines.join('\r\n')}\n`, 'utf16le'));
    assert.deepEqual((await run(file, args, { encoding: 'utf16le', lines: true })).stdout, lines);
  }));

  test('iterating stdout decodes lines in the encoding', leakFree(async () => {
    const [file, args] = byteByByte(Buffer.from('é\n€\n', 'utf16le'));
    const seen = [];
    for await (const line of run(file, args, { encoding: 'utf16le' })) seen.push(line);
    assert.deepEqual(seen, ['é', '€']);
  }));
});

describe('maxBuffer with lines: true counts lines', () => {
  test('as many lines as maxBuffer pass, whatever their bytes; one more fails', leakFree(async () => {
    const long = 'x'.repeat(5000);
    const ok = await run('sh', ['-c', `echo ${long}; echo ${long}; printf ${long}`], { lines: true, maxBuffer: 3 });
    assert.deepEqual(ok.stdout, [long, long, long]);
    const error = await run('sh', ['-c', 'printf "a\\nb\\nc\\nd"'], { lines: true, maxBuffer: 3, reject: false });
    assert.equal(error.isMaxBuffer, true);
    assert.deepEqual(error.stdout, ['a', 'b', 'c'], 'the first maxBuffer lines are kept');
    assert.match(error.shortMessage, /^Command wrote more than maxBuffer \(3 lines\) to stdout/);
  }));

  test('an endless writer is stopped at maxBuffer lines', leakFree(async () => {
    const error = await run('yes', { lines: true, maxBuffer: 1000, reject: false });
    assert.equal(error.isMaxBuffer, true);
    assert.equal(error.signal, 'SIGTERM');
    assert.deepEqual(error.stdout, Array(1000).fill('y'));
  }));

  test('lines are counted in the encoding (utf16le: the code unit, wherever the reads cut it)', leakFree(async () => {
    const [file, args] = byteByByte(Buffer.from('ਊ\nb\nc', 'utf16le'));
    const error = await run(file, args, { encoding: 'utf16le', lines: true, maxBuffer: 2, reject: false });
    assert.equal(error.isMaxBuffer, true);
    assert.deepEqual(error.stdout, ['ਊ', 'b']);
    const ok = await run(file, args, { encoding: 'utf16le', lines: true, maxBuffer: 3 });
    assert.deepEqual(ok.stdout, ['ਊ', 'b', 'c']);
  }));

  test('stderr is counted on its own', leakFree(async () => {
    const error = await run('sh', ['-c', 'echo out; yes >&2'], { lines: true, maxBuffer: 2, reject: false });
    assert.match(error.shortMessage, /maxBuffer \(2 lines\) to stderr/);
    assert.deepEqual(error.stderr, ['y', 'y']);
    assert.deepEqual(error.stdout, ['out']);
  }));
});

describe('all, decoded', () => {
  // One byte to stdout, one to stderr, and so on, each written once the one before has been read
  // (FIONREAD on the pipe says 0): the reads interleave byte by byte.
  const script = `
import fcntl, os, struct, sys, termios, time
out, err = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
def put(fd, b):
    os.write(fd, b)
    while struct.unpack('i', fcntl.ioctl(fd, termios.FIONREAD, b'\\0\\0\\0\\0'))[0] > 0:
        time.sleep(0.001)
for i in range(max(len(out), len(err))):
    if i < len(out): put(1, out[i:i + 1])
    if i < len(err): put(2, err[i:i + 1])
`;
  test('each stream is decoded on its own: a character cut between reads, with the other stream in between, stays whole', { skip: python === null && 'no /usr/bin/python3' }, leakFree(async () => {
    const args = ['-c', script, Buffer.from('é€😀', 'utf16le').toString('hex'), Buffer.from('ab€', 'utf16le').toString('hex')];
    for (const lines of [false, true]) {
      const result = await run(python, args, { encoding: 'utf16le', all: true, lines });
      const chars = (text) => [...(lines ? text.join('\n') : text)].sort();
      assert.deepEqual(chars(result.all), [...'é€😀ab€'].sort());
      assert.deepEqual([result.stdout, result.stderr], lines ? [['é€😀'], ['ab€']] : ['é€😀', 'ab€']);
    }
  }));
});
