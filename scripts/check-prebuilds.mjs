// Checks the prebuilt files of the package: for every target, that prebuilds/<target>/ holds
// pidfd.node and an executable pidfd-watchdog, built for the target's architecture and libc, and,
// for glibc, needing no symbol version newer than GLIBC_2.28 (what Node 20+ itself needs: the
// floor of the oldest system the prebuild must load on). The ELF files are read here, with no
// readelf or objdump, so that the check runs anywhere the tests run (test/prebuilds.test.js).
//
// Usage: node scripts/check-prebuilds.mjs [target...] (every directory under prebuilds/ by
// default). Prints one line per file; exits 1 if any check fails.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GLIBC_FLOOR = '2.28';
export const TARGETS = ['linux-x64-glibc', 'linux-x64-musl', 'linux-arm64-glibc', 'linux-arm64-musl'];
const MACHINES = { x64: 62, arm64: 183 }; // EM_X86_64, EM_AARCH64
const SHT_DYNAMIC = 6;
const SHT_GNU_VERNEED = 0x6ffffffe;
const PT_INTERP = 3;
const DT_NEEDED = 1;

/**
 * What an ELF64 little-endian file says about how it loads: its machine, type (2 executable,
 * 3 shared object or PIE), interpreter (null for a shared object or a static executable),
 * needed libraries, and the symbol versions it needs per library ({ 'libc.so.6': ['GLIBC_2.2.5',
 * ...] }).
 */
export function inspectElf(path) {
  const b = readFileSync(path);
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path}: not an ELF file`);
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`${path}: not a 64-bit little-endian ELF file`);
  const type = b.readUInt16LE(16);
  const machine = b.readUInt16LE(18);
  const phoff = Number(b.readBigUInt64LE(32));
  const shoff = Number(b.readBigUInt64LE(40));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const shentsize = b.readUInt16LE(58);
  const shnum = b.readUInt16LE(60);
  const cstr = (at) => b.toString('latin1', at, b.indexOf(0, at));

  let interp = null;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (b.readUInt32LE(p) === PT_INTERP) interp = cstr(Number(b.readBigUInt64LE(p + 8)));
  }
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    sections.push({
      type: b.readUInt32LE(s + 4),
      offset: Number(b.readBigUInt64LE(s + 24)),
      size: Number(b.readBigUInt64LE(s + 32)),
      link: b.readUInt32LE(s + 40),
    });
  }
  const needed = [];
  const versions = {};
  for (const s of sections) {
    const strtab = sections[s.link]?.offset ?? 0;
    if (s.type === SHT_DYNAMIC) {
      for (let at = s.offset; at + 16 <= s.offset + s.size; at += 16) {
        const tag = b.readBigInt64LE(at);
        if (tag === 0n) break;
        if (tag === BigInt(DT_NEEDED)) needed.push(cstr(strtab + Number(b.readBigUInt64LE(at + 8))));
      }
    } else if (s.type === SHT_GNU_VERNEED) {
      // Verneed { u16 version, u16 cnt, u32 file, u32 aux, u32 next }, each followed (at aux)
      // by cnt Vernaux { u32 hash, u16 flags, u16 other, u32 name, u32 next }.
      let vn = s.offset;
      for (;;) {
        const file = cstr(strtab + b.readUInt32LE(vn + 4));
        const list = (versions[file] ??= []);
        let va = vn + b.readUInt32LE(vn + 8);
        for (let n = b.readUInt16LE(vn + 2); n > 0; n--) {
          list.push(cstr(strtab + b.readUInt32LE(va + 8)));
          va += b.readUInt32LE(va + 12);
        }
        const next = b.readUInt32LE(vn + 12);
        if (next === 0) break;
        vn += next;
      }
    }
  }
  return { machine, type, interp, needed, versions };
}

/** The newest GLIBC_x.y[.z] among the versions an inspected file needs, or null. */
export function glibcFloor(info) {
  let floor = null;
  for (const list of Object.values(info.versions)) {
    for (const v of list) {
      const m = /^GLIBC_(\d+(?:\.\d+)*)$/.exec(v);
      if (m && (floor === null || compareVersions(m[1], floor) > 0)) floor = m[1];
    }
  }
  return floor;
}

export function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}

/** The problems of one file of target (linux-<arch>-<libc>); `exe`: the watchdog. */
export function fileProblems(target, path, exe) {
  const [, arch, libc] = target.split('-');
  const problems = [];
  let info;
  try {
    info = inspectElf(path);
  } catch (err) {
    return [err.message];
  }
  if (info.machine !== MACHINES[arch]) problems.push(`machine ${info.machine}, not ${arch} (${MACHINES[arch]})`);
  if (!exe && info.type !== 3) problems.push(`ELF type ${info.type}, not a shared object`);
  if (exe && (statSync(path).mode & 0o111) !== 0o111) problems.push('not executable by everyone');
  const floor = glibcFloor(info);
  if (libc === 'glibc') {
    if (!info.needed.includes('libc.so.6')) problems.push(`does not need glibc's libc.so.6 (needs ${info.needed.join(', ') || 'nothing'})`);
    if (floor === null) problems.push('needs no GLIBC_ symbol version (not a glibc build?)');
    else if (compareVersions(floor, GLIBC_FLOOR) > 0) problems.push(`needs GLIBC_${floor}, newer than the floor GLIBC_${GLIBC_FLOOR}`);
    if (exe && !/^\/lib(64)?\/ld-linux-/.test(info.interp ?? '')) problems.push(`interpreter ${info.interp}, not glibc's`);
  } else {
    if (floor !== null || info.needed.includes('libc.so.6')) problems.push(`needs glibc (GLIBC_${floor}, ${info.needed.join(', ')})`);
    if (exe && info.interp !== null && !/^\/lib\/ld-musl-/.test(info.interp)) problems.push(`interpreter ${info.interp}, not musl's`);
  }
  return problems;
}

/** One line per file of each target: what it is, and its problems. Returns [lines, ok]. */
export function checkPrebuilds(root, targets) {
  const lines = [];
  let ok = true;
  for (const target of targets) {
    for (const [name, exe] of [['pidfd.node', false], ['pidfd-watchdog', true]]) {
      const path = join(root, 'prebuilds', target, name);
      let problems;
      let what = '';
      try {
        statSync(path);
        problems = fileProblems(target, path, exe);
        const info = inspectElf(path);
        what = `${statSync(path).size} B, needs ${info.needed.join(' ') || '-'}, interp ${info.interp ?? '-'}, glibc floor ${glibcFloor(info) ?? '-'}`;
      } catch (err) {
        problems = problems ?? [err.code === 'ENOENT' ? 'missing' : err.message];
      }
      if (problems.length > 0) ok = false;
      lines.push(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${target}/${name}: ${what}${problems.length ? ` -- ${problems.join('; ')}` : ''}`);
    }
  }
  return [lines, ok];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  let targets = process.argv.slice(2);
  if (targets.length === 0) {
    try {
      targets = readdirSync(join(root, 'prebuilds'));
    } catch {
      targets = [];
    }
  }
  if (targets.length === 0) {
    console.error('check-prebuilds: no prebuilds/ directory: run `npm run prebuild` first');
    process.exit(1);
  }
  const [lines, ok] = checkPrebuilds(root, targets);
  console.log(lines.join('\n'));
  process.exit(ok ? 0 : 1);
}
