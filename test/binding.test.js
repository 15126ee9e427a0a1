// The addon loader (src/binding.ts) and the install script (scripts/install.mjs): which addon a
// process loads (a local build wins; else the prebuild for its platform, architecture and libc),
// that the watchdog beside it is the one run() starts, and when the install compiles. Each case
// runs against a copy of the package in a 0700 temporary directory, whose prebuilds/ holds this
// checkout's build (the files are the same kind; where they come from does not matter here).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { addonLocation, detectLibc, prebuildTarget } from '../dist/binding.js';
import { GUARD_MS, root } from './helpers/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'pidfd-binding-'));
chmodSync(scratch, 0o700);
after(() => rmSync(scratch, { recursive: true, force: true }));

const libc = process.report.getReport().header.glibcVersionRuntime === undefined ? 'musl' : 'glibc';
const target = `linux-${process.arch}-${libc}`;

/** A copy of the installed package under scratch/name: dist/, package.json, the install script,
 * and optionally build/Release and prebuilds/<target>/ (copies of this checkout's build). */
function fakePackage(name, { build = false, prebuild = false } = {}) {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  cpSync(join(root, 'scripts', 'install.mjs'), join(dir, 'scripts', 'install.mjs'));
  for (const [wanted, sub] of [[build, join('build', 'Release')], [prebuild, join('prebuilds', target)]]) {
    if (!wanted) continue;
    mkdirSync(join(dir, sub), { recursive: true });
    for (const file of ['pidfd.node', 'pidfd-watchdog']) cpSync(join(root, 'build', 'Release', file), join(dir, sub, file));
  }
  return dir;
}

/** Runs a module script against the package at dir in a fresh Node; its JSON output, parsed. */
function inPackage(dir, body, env = {}) {
  const script = `import * as pidfd from ${JSON.stringify(pathToFileURL(join(dir, 'dist', 'index.js')).href)};
import * as loader from ${JSON.stringify(pathToFileURL(join(dir, 'dist', 'binding.js')).href)};
import { readFileSync } from 'node:fs';
const mapped = () => [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5]).filter((p) => p && p.endsWith('.node')))];
${body}`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, PIDFD_ADDON: '', PIDFD_LIBC: '', ...env },
    timeout: GUARD_MS,
    killSignal: 'SIGKILL',
  });
  return JSON.parse(out);
}

const spawnAndRun = `
const where = loader.addonLocation();
const spawned = await pidfd.spawn('/bin/sh', ['-c', 'exit 3'], { stdio: 'ignore' }).exited;
const ran = await pidfd.run('/bin/echo', ['from run']);
console.log(JSON.stringify({ where, code: spawned.code, stdout: ran.stdout, mapped: mapped() }));`;

describe('the addon loader', () => {
  test('detects the libc, as Node\'s process report does', () => {
    assert.equal(detectLibc(), libc);
    assert.equal(prebuildTarget(), target);
  });

  test('PIDFD_LIBC names the libc when detection cannot', () => {
    const dir = fakePackage('libc');
    const other = libc === 'glibc' ? 'musl' : 'glibc';
    const r = inPackage(dir, 'console.log(JSON.stringify(loader.prebuildTarget()));', { PIDFD_LIBC: other });
    assert.equal(r, `linux-${process.arch}-${other}`);
  });

  test('with no local build, loads the prebuild for this machine, and run() starts the watchdog beside it', () => {
    const dir = fakePackage('prebuild-only', { prebuild: true });
    const r = inPackage(dir, spawnAndRun);
    const expected = join(dir, 'prebuilds', target);
    assert.deepEqual(r.where, { from: 'prebuild', addon: join(expected, 'pidfd.node'), watchdog: join(expected, 'pidfd-watchdog') });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'from run');
    assert.deepEqual(r.mapped, [join(expected, 'pidfd.node')]);
  });

  // The addon stays mapped after the worker ends: it pins itself (native/addon.c).
  test('a worker alone loads the prebuild, spawns and runs, and ends', () => {
    const dir = fakePackage('prebuild-worker', { prebuild: true });
    writeFileSync(
      join(dir, 'worker.mjs'),
      `import { parentPort } from 'node:worker_threads';
import * as pidfd from './dist/index.js';
const spawned = await pidfd.spawn('/bin/sh', ['-c', 'exit 4'], { stdio: 'ignore' }).exited;
const ran = await pidfd.run('/bin/echo', ['from a worker']);
parentPort.postMessage({ code: spawned.code, stdout: ran.stdout });\n`,
    );
    const r = inPackage(
      dir,
      `import { Worker } from 'node:worker_threads';
const w = new Worker(${JSON.stringify(join(dir, 'worker.mjs'))}, { execArgv: [] });
const exited = new Promise((resolve) => w.once('exit', resolve)); // first: 'message' and 'exit' can come in one turn
const message = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
await exited;
console.log(JSON.stringify({ ...message, mapped: mapped() }));`,
    );
    assert.equal(r.code, 4);
    assert.equal(r.stdout, 'from a worker');
    assert.deepEqual(r.mapped, [join(dir, 'prebuilds', target, 'pidfd.node')]);
  });

  test('a local build wins over a prebuild; PIDFD_ADDON=prebuild takes the prebuild', () => {
    const dir = fakePackage('both', { build: true, prebuild: true });
    const local = inPackage(dir, spawnAndRun);
    assert.equal(local.where.from, 'build');
    assert.deepEqual(local.mapped, [join(dir, 'build', 'Release', 'pidfd.node')]);
    assert.equal(local.stdout, 'from run');
    const forced = inPackage(dir, spawnAndRun, { PIDFD_ADDON: 'prebuild' });
    assert.equal(forced.where.from, 'prebuild');
    assert.deepEqual(forced.mapped, [join(dir, 'prebuilds', target, 'pidfd.node')]);
  });

  test('with neither, the error names what was looked for and how to build', () => {
    const dir = fakePackage('neither');
    const r = inPackage(
      dir,
      `try { pidfd.spawn('/bin/true', []); console.log('null'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, cause: e.cause?.message })); }`,
    );
    assert.equal(r.code, 'ERR_PIDFD_ADDON');
    assert.match(r.message, new RegExp(`build/Release/pidfd\\.node or prebuilds/${target}/pidfd\\.node`));
    assert.match(r.message, /--build-from-source/);
    assert.match(r.cause, /no build\/Release\/pidfd\.node and no prebuilds\//);
  });

  test('this checkout loads its local build', () => {
    assert.equal(addonLocation()?.from, 'build');
  });
});

describe('the install script', () => {
  /** Runs scripts/install.mjs in dir with a node-gyp that only records that it ran. */
  function install(dir, env = {}) {
    const gyp = join(scratch, 'fake-node-gyp.cjs');
    writeFileSync(gyp, `require('fs').writeFileSync(${JSON.stringify(join(dir, 'gyp-ran'))}, process.argv.slice(2).join(' '));\n`);
    rmSync(join(dir, 'gyp-ran'), { force: true });
    const r = spawnSync(process.execPath, [join(dir, 'scripts', 'install.mjs')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PIDFD_ADDON: '', PIDFD_LIBC: '', PIDFD_BUILD_FROM_SOURCE: '', npm_config_build_from_source: '', npm_config_node_gyp: gyp, ...env },
      timeout: GUARD_MS,
    });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, built: existsSync(join(dir, 'gyp-ran')) };
  }

  test('compiles nothing when a prebuild fits and loads', () => {
    const dir = fakePackage('install-prebuild', { prebuild: true });
    const r = install(dir);
    assert.equal(r.built, false);
    assert.match(r.out, new RegExp(`using the prebuilt addon for ${target}`));
  });

  test('builds from source when asked (--build-from-source, PIDFD_BUILD_FROM_SOURCE=1)', () => {
    const dir = fakePackage('install-forced', { prebuild: true });
    assert.equal(install(dir, { npm_config_build_from_source: 'true' }).built, true);
    assert.equal(install(dir, { PIDFD_BUILD_FROM_SOURCE: '1' }).built, true);
  });

  test('builds from source when no prebuild fits, and rebuilds a local build', () => {
    assert.match(install(fakePackage('install-none')).out, new RegExp(`no prebuild for ${target}: building from source`));
    assert.equal(install(fakePackage('install-none2')).built, true);
    assert.equal(install(fakePackage('install-local', { build: true, prebuild: true })).built, true);
  });
});
