// Builds the addon a second time, instrumented, into build/<name>/build/Release/pidfd.node,
// leaving build/Release alone: node-gyp always builds into ./build of the directory it runs in,
// so it runs in build/<name>/, which holds only links to binding.gyp and native/. The flags reach
// the compiler through CFLAGS/LDFLAGS, which gyp's Makefiles append to binding.gyp's own.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { root } from '../helpers/index.js';

/** node-gyp as npm runs it (npm sets npm_config_node_gyp), else the copy that npm bundles. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmCli = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const bundled = join(npmCli, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return bundled;
  return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
}

/** The node headers the ordinary build used (build/config.gypi), so that nothing is downloaded. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  let config = '';
  try {
    config = readFileSync(join(root, 'build', 'config.gypi'), 'utf8');
  } catch {
    throw new Error('build/config.gypi is missing: run `npm install` (the ordinary build) first');
  }
  const m = /"nodedir":\s*"([^"]+)"/.exec(config);
  if (m === null) throw new Error('build/config.gypi names no nodedir');
  return m[1];
}

/**
 * Builds build/<name>/build/Release/pidfd.node with `flags` added to the compile and link lines,
 * and returns its path. Uses the node headers the ordinary build used (nothing is downloaded).
 */
export function buildInstrumented(name, flags) {
  const stage = join(root, 'build', name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  symlinkSync(join(root, 'binding.gyp'), join(stage, 'binding.gyp'));
  symlinkSync(join(root, 'native'), join(stage, 'native'));
  const env = { ...process.env, CFLAGS: flags.join(' '), LDFLAGS: flags.join(' ') };
  delete env.LD_PRELOAD;
  execFileSync(process.execPath, [nodeGyp(), 'rebuild', '--loglevel=warn', `--nodedir=${nodeDir()}`], {
    cwd: stage,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const addon = join(stage, 'build', 'Release', 'pidfd.node');
  if (!existsSync(addon)) throw new Error(`node-gyp did not produce ${addon}`);
  return addon;
}
