// Large flows get large pipes (src/run/pipe-size.ts): a pipeline's pipe, and a capture's pipe once
// a read finds it full, grow to 1 MiB; at most 16 at a time, each given back when its pipe goes.
// The sizes are read by the children themselves (fcntl F_GETPIPE_SZ through python3).

import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { run } from '../../dist/index.js';
import { grownPipes } from '../../dist/run/pipe-size.js';
import { pidfdOnly, portable } from '../helpers/engine.js';
import { leakFree } from './helpers.js';

const F_GETPIPE_SZ = 1032;
const MIB = 1 << 20;
const MAX_SIZE = '/proc/sys/fs/pipe-max-size';
const maxSizeWritable = (() => {
  try {
    accessSync(MAX_SIZE, constants.W_OK);
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

/** Prints the capacity of the pipe on fd `fd`. */
const printSize = (fd) => ['-c', `import fcntl; print(fcntl.fcntl(${fd}, ${F_GETPIPE_SZ}))`];

/** Fills its stdout's 64 KiB pipe in one write, then waits (up to 60 s) for the pipe to grow and
 * prints its capacity on stderr. The reader's first read is then exactly one full pipe. */
const fillThenWatch = [
  '-c',
  `import fcntl, os, time
os.write(1, b'x' * 65536)
deadline = time.monotonic() + 60
while fcntl.fcntl(1, ${F_GETPIPE_SZ}) == 65536 and time.monotonic() < deadline:
    time.sleep(0.01)
os.write(2, str(fcntl.fcntl(1, ${F_GETPIPE_SZ})).encode())`,
];

describe('pipe sizes for large flows', () => {
  test("a pipeline's pipe holds 1 MiB, and its share of the budget is given back when the pipeline ends", pidfdOnly("Node's child_process joins them with a socketpair"), leakFree(async () => {
    const result = await run('true').pipe('python3', printSize(0));
    assert.equal(result.stdout, String(MIB));
    assert.equal(grownPipes(), 0);
  }));

  test('a capture whose pipe a read found full grows it; a small capture keeps 64 KiB', pidfdOnly('the portable engine reads through the streams Node makes'), leakFree(async () => {
    const full = await run('python3', fillThenWatch, { encoding: 'buffer' });
    assert.equal(full.stdout.length, 65536);
    assert.equal(full.stderr.toString(), String(MIB));
    const small = await run('python3', ['-c', `import fcntl, os; os.write(1, b'y' * 1000); os.write(2, str(fcntl.fcntl(1, ${F_GETPIPE_SZ})).encode())`]);
    assert.equal(small.stderr, '65536');
    assert.equal(grownPipes(), 0);
  }));

  test('a pipe the command grew beyond 1 MiB is not shrunk', { skip: (!maxSizeWritable && 'needs root to raise /proc/sys/fs/pipe-max-size for the command') || (portable && 'the portable engine reads through the streams Node makes') }, leakFree(async () => {
    // The command grows its stdout to 4 MiB and fills 64 KiB of it in one write: the read that
    // takes them is full, which would grow (here: shrink) the pipe. Once that read is done (the
    // pipe is empty) and a second one too (so the first one's callback has returned), it says
    // what its pipe holds.
    const script = `import fcntl, os, termios, time, array
fcntl.fcntl(1, 1031, ${4 * MIB})
def drained():
    n = array.array('i', [0])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fcntl.ioctl(1, termios.FIONREAD, n)
        if n[0] == 0: return
        time.sleep(0.005)
os.write(1, b'x' * 65536)
drained()
os.write(1, b'y')
drained()
os.write(2, str(fcntl.fcntl(1, ${F_GETPIPE_SZ})).encode())`;
    // pipe-max-size (1 MiB) is raised for the test, so that the command may grow its pipe to
    // 4 MiB without CAP_SYS_RESOURCE; put back after.
    const before = readFileSync(MAX_SIZE, 'utf8');
    let result;
    try {
      writeFileSync(MAX_SIZE, String(4 * MIB));
      result = await run('python3', ['-c', script], { encoding: 'buffer' });
    } finally {
      writeFileSync(MAX_SIZE, before);
    }
    assert.equal(result.stdout.length, 65537);
    assert.equal(result.stderr.toString(), String(4 * MIB));
    assert.equal(grownPipes(), 0);
  }));

  test('at most 16 pipes are grown at a time: the 17th pipeline keeps 64 KiB, and a later one grows again', pidfdOnly("Node's child_process joins them with a socketpair"), leakFree(async () => {
    // Sixteen pipelines whose reader holds its grown pipe until its stdin is closed.
    const holders = [];
    for (let i = 0; i < 16; i++) {
      const first = run('sleep', ['1000'], { stdout: 'pipe' });
      holders.push({ first, last: first.pipe('python3', ['-c', `import fcntl, sys; print(fcntl.fcntl(0, ${F_GETPIPE_SZ}), flush=True); sys.stdin.read()`]) });
    }
    assert.equal(grownPipes(), 16);
    const seventeenth = await run('true').pipe('python3', printSize(0));
    assert.equal(seventeenth.stdout, '65536');
    for (const { first } of holders) first.kill('SIGKILL');
    await Promise.all(holders.map(({ last }) => last.nothrow()));
    assert.equal(grownPipes(), 0);
    const later = await run('true').pipe('python3', printSize(0));
    assert.equal(later.stdout, String(MIB));
  }));
});
