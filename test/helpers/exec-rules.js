// execvp's rules, without its shell fallback, as the kernel applies them for given credentials:
// the oracle for which program a spawn() runs, or which errno it fails with (docs/api.md, file).

import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** Whether the credentials `creds` ({ uid, gid, groups }) have permission `bit` (1: x) on st. */
function permits(st, creds, bit) {
  if (creds.uid === 0) return !st.isFile() || (st.mode & 0o111) !== 0 || bit !== 1;
  const shift = st.uid === creds.uid ? 6 : st.gid === creds.gid || creds.groups.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bit) !== 0;
}

/**
 * What execve gives with these credentials, as the kernel decides it, for `path` (absolute)
 * reached from `from`: '/' for an absolute path, the working directory for a relative one. The
 * kernel walks a relative path from the working directory, so only the directories from there
 * on need search permission: a child whose cwd sits under a directory its uid cannot enter
 * (chdir ran before setuid) finds `./prog` there, or not (ENOENT), but is not refused (EACCES).
 * (A relative path with `..` would need more than this; the generated inputs have none.)
 */
function pathOutcome(path, creds, noShebang, from = '/') {
  const parts = path.split('/').filter(Boolean);
  const first = from.split('/').filter(Boolean).length; // the first directory searched
  let st;
  for (let i = 0; i <= parts.length; i++) {
    try {
      st = statSync(`/${parts.slice(0, i).join('/')}`);
    } catch (error) {
      return error.code === 'ENOTDIR' ? 'ENOTDIR' : 'ENOENT';
    }
    if (i < parts.length && !st.isDirectory()) return 'ENOTDIR';
    if (i < parts.length && i >= first && !permits(st, creds, 1)) return 'EACCES';
  }
  if (!st.isFile() || !permits(st, creds, 1)) return 'EACCES';
  return realpathSync(path) === noShebang ? 'ENOEXEC' : null;
}

/** execvp's rules (docs/internals.md): null when the file runs, else the errno's name. */
export function execOutcome(file, searchPath, base, creds, noShebang) {
  const tryPath = (candidate) =>
    pathOutcome(resolve(base, candidate), creds, noShebang, isAbsolute(candidate) ? '/' : base);
  if (file.includes('/')) return tryPath(file);
  let eacces = false;
  for (const dir of (searchPath ?? '/bin:/usr/bin').split(':')) {
    const outcome = tryPath(dir === '' ? file : `${dir}/${file}`);
    if (outcome === null || outcome === 'ENOEXEC') return outcome;
    if (outcome === 'EACCES') eacces = true;
  }
  return eacces ? 'EACCES' : 'ENOENT';
}

/** chdir's answer for a path: null, 'ENOENT' or 'ENOTDIR'. */
export function dirOutcome(path) {
  try {
    return statSync(path).isDirectory() ? null : 'ENOTDIR';
  } catch (error) {
    return error.code === 'ENOTDIR' ? 'ENOTDIR' : 'ENOENT';
  }
}
