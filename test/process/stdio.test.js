// The stdio option (src/process/stdio.ts): each child fd gets what it was given, at the number
// asked for, the parent's streams carry the data, and the parent keeps exactly its fds (case ids
// from docs/reliability.md: D1, D8, D10, G4).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { spawn, SpawnError } from '../../dist/index.js';
import { closed, closedFd, collect, fixtures, LIST_FDS, leakFree, parseListing, readAll, refused, settle, warmUp } from '../helpers/index.js';

const EBADF = 9;

let dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pidfd-stdio-'));
  await warmUp();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('spawn(): stdio: pipes and streams', () => {
  test('stdin, stdout and stderr are pipes by default', async () => {
    const sub = spawn('/bin/sh', ['-c', 'cat; echo err >&2']);
    sub.stdin.end('round trip');
    const { status, stdout, stderr } = await collect(sub);
    assert.deepEqual([status.code, stdout, stderr], [0, 'round trip', 'err\n']);
  });

  test('a stream with an fd can be given: the child writes straight into the file', async () => {
    const file = join(dir, 'stream-out');
    const fd = openSync(file, 'w');
    try {
      const sub = spawn('/bin/echo', ['into the file'], { stdio: ['ignore', { fd }, 'inherit'] });
      assert.equal(sub.stdout, null);
      await sub.exited;
      assert.equal(readFileSync(file, 'utf8'), 'into the file\n');
    } finally {
      closeSync(fd);
    }
  });

  test("'pipe' at fd 3 is a two-way socket", async () => {
    const sub = spawn('/bin/sh', ['-c', 'read line <&3; echo "got $line" >&3'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    assert.equal(sub.stdio.length, 4);
    const reply = readAll(sub.stdio[3]);
    sub.stdio[3].write('ping\n');
    assert.equal((await sub.exited).code, 0);
    assert.equal(await reply, 'got ping\n');
  });
});

describe('spawn(): stdio: the parent keeps exactly its fds', () => {
  test(
    'D1: 50 spawns across every stdio mode leave no fd behind once their streams are done',
    leakFree(async () => {
      const input = openSync(join(dir, 'd1-in'), 'w+');
      const output = openSync(join(dir, 'd1-out'), 'a');
      const stream = createWriteStream(join(dir, 'd1-stream'));
      await once(stream, 'open');
      const modes = [
        { stdio: undefined, script: 'cat; echo err >&2' },
        { stdio: 'ignore', script: 'echo out; echo err >&2' },
        { stdio: 'inherit', script: 'exit 0' }, // nothing written: stdout is the test runner's
        { stdio: [input, output, output], script: 'cat; echo err >&2' },
        { stdio: ['ignore', stream, 'ignore'], script: 'echo out' },
        { stdio: ['ignore', 'pipe', 'ignore', 'pipe', null, 'pipe'], script: 'echo 3 >&3; echo 5 >&5' },
      ];
      const subs = [];
      for (let i = 0; i < 50; i++) {
        const { stdio, script } = modes[i % modes.length];
        subs.push(spawn('/bin/sh', ['-c', script], { stdio }));
      }
      for (const sub of subs) sub.stdin?.write('data\n');
      const results = await Promise.all(subs.map(settle));
      results.forEach(({ status }, i) => assert.equal(status.code, 0, `spawn ${i}`));
      assert.equal(results[0].outputs[1], 'data\n');
      assert.deepEqual(results[5].outputs.slice(3), ['3\n', '', '5\n']);
      closeSync(input);
      closeSync(output);
      stream.close();
      await closed(stream);
    }),
  );
});

describe('spawn(): stdio: stdin, stdout and stderr go where they are sent', () => {
  const names = ['A', 'B', 'C'];
  const permutations = [
    ['A', 'B', 'C'],
    ['A', 'C', 'B'],
    ['B', 'A', 'C'],
    ['B', 'C', 'A'],
    ['C', 'A', 'B'],
    ['C', 'B', 'A'],
  ];
  for (const [inName, outName, errName] of permutations) {
    test(
      `D8: stdin from ${inName}, stdout to ${outName} and stderr to ${errName} land in those files`,
      leakFree(async () => {
        const fds = {};
        for (const name of names) {
          writeFileSync(join(dir, name), `${name}\n`);
          fds[name] = openSync(join(dir, name), 'a+'); // reads from the start, writes append
        }
        try {
          const sub = spawn('/bin/sh', ['-c', 'read line; echo "1:$line"; echo "2:$line" >&2'], {
            stdio: [fds[inName], fds[outName], fds[errName]],
          });
          const { status } = await settle(sub);
          assert.equal(status.code, 0);
        } finally {
          for (const name of names) closeSync(fds[name]);
        }
        const content = (name) => readFileSync(join(dir, name), 'utf8');
        assert.equal(content(inName), `${inName}\n`);
        assert.equal(content(outName), `${outName}\n1:${inName}\n`);
        assert.equal(content(errName), `${errName}\n2:${inName}\n`);
      }),
    );
  }

  test(
    'D8: stdout and stderr sent to the same fd keep their order',
    leakFree(async () => {
      const fd = openSync(join(dir, 'both'), 'w');
      try {
        const sub = spawn('/bin/sh', ['-c', 'echo 1; echo 2 >&2; echo 3; echo 4 >&2'], {
          stdio: ['ignore', fd, fd],
        });
        assert.equal((await settle(sub)).status.code, 0);
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(join(dir, 'both'), 'utf8'), '1\n2\n3\n4\n');
    }),
  );

  test(
    "D8: a parent passing its own fds 1 and 2 crosswise swaps the child's stdout and stderr",
    leakFree(async () => {
      // The sources sit on each other's targets: the fixture's fd 1 goes to the child's 2.
      const out = openSync(join(dir, 'out'), 'w');
      const err = openSync(join(dir, 'err'), 'w');
      try {
        const sub = spawn(
          process.execPath,
          [join(fixtures, 'spawn-sh.mjs'), '["ignore", 2, 1]', 'echo to-stdout; echo to-stderr >&2'],
          { stdio: ['ignore', out, err] },
        );
        assert.equal((await settle(sub)).status.code, 0);
      } finally {
        closeSync(out);
        closeSync(err);
      }
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'to-stderr\n');
      assert.equal(readFileSync(join(dir, 'err'), 'utf8'), 'to-stdout\n');
    }),
  );

  /** Runs closed-std-fds.mjs: one spawn, then it closes `fds` of its own and uses pipes. */
  async function closedStdFdsReport(fds, firstStdio) {
    const resultFile = join(dir, `closed-${fds}-${firstStdio}.json`);
    const script = join(fixtures, 'closed-std-fds.mjs');
    const { outputs } = await settle(spawn(process.execPath, [script, fds, resultFile, firstStdio]));
    const report = JSON.parse(readFileSync(resultFile, 'utf8'));
    assert.equal(report.crash, undefined, `the fixture crashed: ${report.crash}\n${outputs[2]}`);
    return report;
  }
  const roundTripped = (r) => [r.code, r.stdout, r.stderr];
  const expected = [0, 'out:hello\n', 'err:hello\n'];
  let allClosed;

  test(
    'D8: a parent that closed its fd 0 still talks to the child through pipes',
    leakFree(async () => {
      const r = await closedStdFdsReport('0', 'pipe');
      assert.deepEqual(roundTripped(r), expected);
      assert.equal(r.leftOpen, '');
      assert.deepEqual(r.zombies, []);
    }),
  );

  test(
    'D8: a parent that closed its fds 0, 1 and 2 still talks to the child through pipes',
    leakFree(async () => {
      allClosed ??= await closedStdFdsReport('0,1,2', 'pipe');
      const r = allClosed;
      // The free numbers 0-2 go to the child's ends (moved into place in the child); the
      // parent's ends are kept at 3 and up, away from Node's stdio.
      assert.ok(r.parentFds.every((fd) => fd >= 3), `the parent's pipe ends: ${r.parentFds}`);
      assert.deepEqual(roundTripped(r), expected);
      assert.deepEqual(r.zombies, []);
    }),
  );

  test(
    'D8: a parent that closed its fds 0, 1 and 2 gets no fd for good from a spawn',
    leakFree(async () => {
      // libuv never closes fds 0-2 (uv__stream_close), so a pipe end handed to a net.Socket there
      // stays open after the stream is destroyed.
      allClosed ??= await closedStdFdsReport('0,1,2', 'pipe');
      assert.equal(allClosed.leftOpen, '');
    }),
  );

  test(
    'D8: a parent that closed its fds 0, 1 and 2 before Node made process.stderr can use pipes',
    leakFree(async () => {
      // Destroying a net.Socket reads `process.stderr` (lib/net.js, _destroy), which Node then
      // creates on fd 2: if a pipe end sits there, that throws EEXIST.
      const r = await closedStdFdsReport('0,1,2', 'ignore');
      assert.deepEqual(roundTripped(r), expected);
    }),
  );
});

describe('spawn(): stdio: fds above 2', () => {
  test(
    'D10: pipes at fds 3 and 7 carry data both ways and fds 4-6 are closed',
    leakFree(async () => {
      const stdio = ['ignore', 'pipe', 'ignore', 'pipe', null, null, null, 'pipe'];
      const script = 'read a <&3; echo "3:$a" >&3; read b <&7; echo "7:$b" >&7; ';
      const sub = spawn('/bin/sh', ['-c', script + LIST_FDS], { stdio });
      assert.deepEqual(
        sub.stdio.map((s) => s !== null),
        [false, true, false, true, false, false, false, true],
      );
      sub.stdio[3].write('x\n');
      sub.stdio[7].write('y\n');
      const { status, outputs } = await settle(sub);
      assert.equal(status.code, 0);
      assert.equal(outputs[3], '3:x\n');
      assert.equal(outputs[7], '7:y\n');
      const fds = parseListing(outputs[1]);
      assert.deepEqual([...fds.keys()], [0, 1, 2, 3, 7], outputs[1]);
      assert.match(fds.get(3), /^socket:/);
      assert.match(fds.get(7), /^socket:/);
    }),
  );
});

describe('spawn(): stdio: values it refuses', () => {
  const values = [
    { value: -1, shown: '-1' },
    { value: -2, shown: '-2' },
    { value: 1.5, shown: '1.5' },
  ];
  for (const target of [1, 3]) {
    for (const { value, shown } of values) {
      test(`G4: stdio[${target}]: ${shown} throws ERR_OUT_OF_RANGE naming \`stdio[${target}]\``, () => {
        const stdio = ['ignore', 'ignore', 'ignore'];
        stdio[target] = value;
        refused(() => spawn('/bin/sh', [], { stdio }), {
          type: RangeError,
          code: 'ERR_OUT_OF_RANGE',
          names: [`\`stdio[${target}]\``, shown],
        });
      });
    }
  }

  test("G4: stdio[1]: 'foo' throws ERR_INVALID_ARG_VALUE naming `stdio[1]`", () => {
    refused(() => spawn('/bin/sh', [], { stdio: ['ignore', 'foo', 'ignore'] }), {
      type: TypeError,
      code: 'ERR_INVALID_ARG_VALUE',
      names: ['`stdio[1]`', '"foo"'],
    });
  });

  test('G4: an fd number that is closed throws EBADF at spawn naming the entry and the fd', () => {
    const fd = closedFd();
    const error = refused(() => spawn('/bin/sh', [], { stdio: ['ignore', fd, 'ignore'] }), {
      type: SpawnError,
      code: 'EBADF',
      names: ['stdio[1]'],
    });
    assert.equal(error.errno, -EBADF);
    assert.equal(error.fd, 1);
    assert.equal(error.spawnfile, '/bin/sh');
    // The user passed `fd`, not 1: the message must say which of their fds is closed.
    assert.match(error.message, new RegExp(`\\b${fd}\\b`), `message does not name fd ${fd}: ${error.message}`);
  });

  test('G4: an fd number above any RLIMIT_NOFILE (2**30) throws EBADF at spawn naming the entry', () => {
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))?.[1];
    assert.ok(hard === 'unlimited' || Number(hard) <= 2 ** 30, `hard RLIMIT_NOFILE is ${hard}`);
    const error = refused(() => spawn('/bin/sh', [], { stdio: ['ignore', 2 ** 30, 'ignore'] }), {
      type: SpawnError,
      code: 'EBADF',
      names: ['stdio[1]', 'not open'],
    });
    assert.equal(error.errno, -EBADF);
    assert.equal(error.fd, 1);
  });
});
