// The package's install script: builds the addon from source (node-gyp rebuild) unless a prebuilt
// one fits this machine. It builds when:
// - building from source is asked for: `npm install --build-from-source` (npm passes it on as
//   npm_config_build_from_source) or PIDFD_BUILD_FROM_SOURCE=1;
// - a local build exists (build/Release/pidfd.node: a checkout being developed, where `npm
//   install` rebuilds after a change in native/, and the local build wins over a prebuild);
// - no prebuild fits: no prebuilds/linux-<arch>-<libc>/ for this machine (a git checkout has
//   none), or the one there does not load (a glibc older than the prebuild's floor, 2.28).
// Otherwise nothing is compiled, and no compiler, make or Python is needed. An install with
// --ignore-scripts skips this script: the loader (src/binding.ts) finds the prebuild all the same.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function truthy(value) {
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** Why this install must build (a sentence), or null when the prebuild at hand loads. */
async function whyBuild() {
  if (truthy(process.env.npm_config_build_from_source) || truthy(process.env.PIDFD_BUILD_FROM_SOURCE)) {
    return 'building from source, as asked';
  }
  if (existsSync(join(root, 'build', 'Release', 'pidfd.node'))) return 'a local build exists: rebuilding it';
  let loader;
  try {
    loader = await import('../dist/binding.js');
  } catch {
    return 'no dist/ yet (a checkout): building from source';
  }
  const where = loader.addonLocation();
  if (where === null) return `no prebuild for ${loader.prebuildTarget()}: building from source`;
  try {
    createRequire(import.meta.url)(where.addon);
  } catch (err) {
    return `the prebuild ${where.addon} does not load here (${err.message.split('\n')[0]}): building from source`;
  }
  if (!existsSync(where.watchdog)) return `no ${where.watchdog}: building from source`;
  console.log(`pidfd: using the prebuilt addon for ${loader.prebuildTarget()} (nothing to compile)`);
  return null;
}

const why = await whyBuild();
if (why !== null) {
  console.log(`pidfd: ${why}`);
  // npm puts its node-gyp on the PATH of install scripts and names it in npm_config_node_gyp.
  const gyp = process.env.npm_config_node_gyp;
  const command = gyp ? [process.execPath, gyp] : ['node-gyp'];
  const r = spawnSync(command[0], [...command.slice(1), 'rebuild'], { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`pidfd: could not run node-gyp: ${r.error.message}`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}
