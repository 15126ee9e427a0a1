// spawn(): stdio — a stream given to a child is the child's now (issue 8, item 2). The parent's
// end of another Subprocess's pipe is closed after the spawn, so that two children joined
// through the parent behave as a shell pipeline does; any other stream stops being read.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import { readAll, withTimeout } from '../helpers/index.js';

const LINES = 200_000;

describe("spawn(): stdio given another Subprocess's streams", () => {
  test("a producer's stdout given as a consumer's stdin delivers every line, and the producer's exit arrives unlistened", async () => {
    const producer = spawn('seq', ['1', String(LINES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const consumer = spawn('wc', ['-l'], { stdio: [producer.stdout, 'pipe', 'inherit'] });
    assert.equal(producer.stdout.destroyed, true, "the parent's end was handed over");
    const [produced, counted, consumed] = await withTimeout(
      Promise.all([producer.exited, readAll(consumer.stdout), consumer.exited]),
      30_000,
      'the pipeline',
    );
    assert.equal(produced.code, 0);
    assert.equal(consumed.code, 0);
    assert.equal(counted.trim(), String(LINES));
  });

  test('a consumer that stops early ends the producer with SIGPIPE, as in a shell pipeline', async () => {
    const producer = spawn('yes', [], { stdio: ['ignore', 'pipe', 'ignore'] });
    const consumer = spawn('head', ['-n', '1'], { stdio: [producer.stdout, 'pipe', 'inherit'] });
    const [produced, first] = await withTimeout(
      Promise.all([producer.exited, readAll(consumer.stdout), consumer.exited]),
      30_000,
      'the pipeline',
    );
    assert.equal(first, 'y\n');
    assert.equal(produced.signal, 'SIGPIPE', 'no reader is left once head exits: the parent closed its end');
  });

  test("a consumer's stdin given as a producer's stdout is closed in the parent after its pending writes", async () => {
    const consumer = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    consumer.stdin.write('first\n');
    const producer = spawn('/bin/sh', ['-c', 'echo second'], { stdio: ['ignore', consumer.stdin, 'inherit'] });
    const [out] = await withTimeout(Promise.all([readAll(consumer.stdout), producer.exited, consumer.exited]), 30_000, 'cat');
    assert.equal(out, 'first\nsecond\n', 'cat saw EOF once the producer exited: the parent holds no write end');
  });
});

describe('spawn(): stdio given a stream of the parent', () => {
  test('a socket given as stdin stops being read by the parent: the child gets every byte', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-handover-'));
    t.after(() => rmSync(dir, { recursive: true }));
    const path = join(dir, 'sock');
    const payload = Buffer.alloc(1_000_000, 'x');
    const server = createServer((conn) => conn.end(payload));
    await new Promise((resolve) => server.listen(path, resolve));
    t.after(() => server.close());
    const client = connect(path);
    await new Promise((resolve) => client.once('connect', resolve));
    let stolen = 0;
    const child = spawn('wc', ['-c'], { stdio: [client, 'pipe', 'inherit'] });
    client.on('data', (d) => (stolen += d.length)); // must never fire: the parent stopped reading
    const [counted] = await withTimeout(Promise.all([readAll(child.stdout), child.exited]), 30_000, 'wc');
    assert.equal(counted.trim(), String(payload.length));
    assert.equal(stolen, 0);
    client.destroy();
  });
});
