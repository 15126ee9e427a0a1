// The types of pidfd/child_process and pidfd/register, as a consumer compiles against them: a
// strict program written against node:child_process type-checks, unchanged, with its import
// swapped for pidfd/child_process (named, default and namespace imports, the types it names), and
// each export's type is node:child_process's own (the consumer's @types/node decides).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { pass } from '../helpers/index.js';
import { typecheck } from '../helpers/typecheck.js';

/** A program that uses child_process the ways real code does, every type inferred or named. */
const program = (from) => `
import cp, {
  ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync,
  type ChildProcessWithoutNullStreams, type ExecException, type ExecFileException, type ExecFileOptions, type SpawnOptions,
  type SpawnSyncReturns, type StdioOptions,
} from '${from}';
import * as namespace from '${from}';
import { once } from 'node:events';
import { promisify } from 'node:util';

const options: SpawnOptions = { cwd: '/', env: { ...process.env, LANG: 'C' }, stdio: 'pipe' };
const child: ChildProcessWithoutNullStreams = spawn('ls', ['-l'], { cwd: '/' });
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk: string) => process.stdout.write(chunk.toUpperCase()));
child.stderr.pipe(process.stderr);
child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => console.log(code ?? signal));
const [code] = (await once(child, 'close')) as [number | null];
const ok: boolean = child.kill('SIGTERM') || code === 0;

const inherited = spawn('make', options);
const pid: number | undefined = inherited.pid;
if (inherited instanceof ChildProcess && inherited.stdout === null && pid !== undefined) inherited.unref();

execFile('git', ['rev-parse', 'HEAD'], { timeout: 1000 } satisfies ExecFileOptions, (error: ExecFileException | null, stdout: string, stderr: string) => {
  if (error) console.error(error.code, error.killed, error.signal, stderr);
  else console.log(stdout.trim());
});
exec('echo $HOME', { encoding: 'buffer' }, (error: ExecException | null, stdout: Buffer) => console.log(error?.cmd, stdout.byteLength));
const { stdout: head } = await promisify(execFile)('git', ['log', '-1']);
const { stdout: bytes } = await promisify(exec)('ls', { encoding: 'buffer' });
const text: string = head.trim() + bytes.toString('hex');

const sync: SpawnSyncReturns<string> = spawnSync('ls', ['/'], { encoding: 'utf8' });
const status: number | null = sync.status;
const lines: string[] = sync.stdout.split('\\n');
const version: string = execFileSync('node', ['--version'], { encoding: 'utf8' }).trim();
const raw: Buffer = execSync('uname -a');
const stdio: StdioOptions = ['ignore', 'pipe', 'inherit', 'ipc'];
const worker = fork('./worker.js', ['--flag'], { stdio, serialization: 'advanced' });
worker.send({ hello: 'world' }, (error: Error | null) => { if (error) throw error; });
worker.on('message', (message: unknown) => worker.disconnect());

const viaDefault: ChildProcess = cp.spawn('true');
const viaNamespace: ChildProcess = namespace.execFile('true');
export const used = [ok, pid, text, status, lines, version, raw, viaDefault, viaNamespace];
`;

/** true when A and B are the same type (each assignable to the other, any not accepted). */
const sameTypes = `
import type * as Node from 'node:child_process';
import type * as Pidfd from 'pidfd/child_process';
import type NodeDefault from 'node:child_process';
import type PidfdDefault from 'pidfd/child_process';

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Names = 'ChildProcess' | 'exec' | 'execFile' | 'execFileSync' | 'execSync' | 'fork' | 'spawn' | 'spawnSync';
export const each: { [K in Names]: Same<(typeof Node)[K], (typeof Pidfd)[K]> } = {
  ChildProcess: true, exec: true, execFile: true, execFileSync: true, execSync: true, fork: true, spawn: true, spawnSync: true,
};
export const defaults: Same<typeof NodeDefault, typeof PidfdDefault> = true;
export const types: [Same<Node.SpawnOptions, Pidfd.SpawnOptions>, Same<Node.ExecException, Pidfd.ExecException>] = [true, true];
`;

const registerUse = `
import 'pidfd/register';
import { isRegistered, register, unregister } from 'pidfd/register';

const before: boolean = isRegistered();
const undone: boolean = unregister();
const again: void = register();
export const used = [before, undone, again];
`;

describe('types of pidfd/child_process and pidfd/register', () => {
  test('a strict program type-checks the same against node:child_process and pidfd/child_process, whose exports have the same types; pidfd/register is typed', { skip: pass !== 'default' && 'types do not depend on the backend' }, () => {
    const { ok, diagnostics } = typecheck({
      'node.ts': program('node:child_process'),
      'pidfd.ts': program('pidfd/child_process'),
      'same.ts': sameTypes,
      'register.ts': registerUse,
    });
    assert.ok(ok, diagnostics);
  });
});
