// execvp's rules, without its shell fallback, as the kernel applies them for given credentials:
// the oracle for which program a spawn() runs, or which errno it fails with (docs/api.md, file).

import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Whether the credentials `creds` ({ uid, gid, groups }) have permission `bit` (1: x) on st. */
function permits(st, creds, bit) {
  if (creds.uid === 0) return !st.isFile() || (st.mode & 0o111) !== 0 || bit !== 1;
  const shift = st.uid === creds.uid ? 6 : st.gid === creds.gid || creds.groups.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bit) !== 0;
}

/** What execve of an absolute path gives with these credentials, as the kernel decides it. */
function pathOutcome(path, creds, noShebang) {
  const parts = path.split('/').filter(Boolean);
  let st;
  for (let i = 0; i <= parts.length; i++) {
    try {
      st = statSync(`/${parts.slice(0, i).join('/')}`);
    } catch (error) {
      return error.code === 'ENOTDIR' ? 'ENOTDIR' : 'ENOENT';
    }
    if (i < parts.length && !st.isDirectory()) return 'ENOTDIR';
    if (i < parts.length && !permits(st, creds, 1)) return 'EACCES';
  }
  if (!st.isFile() || !permits(st, creds, 1)) return 'EACCES';
  return realpathSync(path) === noShebang ? 'ENOEXEC' : null;
}

/** execvp's rules (docs/internals.md): null when the file runs, else the errno's name. */
export function execOutcome(file, searchPath, base, creds, noShebang) {
  if (file.includes('/')) return pathOutcome(resolve(base, file), creds, noShebang);
  let eacces = false;
  for (const dir of (searchPath ?? '/bin:/usr/bin').split(':')) {
    const outcome = pathOutcome(resolve(base, dir === '' ? file : `${dir}/${file}`), creds, noShebang);
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
