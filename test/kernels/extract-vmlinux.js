// node extract-vmlinux.js VMLINUZ OUT: writes the ELF vmlinux compressed inside a bzImage (zstd,
// xz or gzip payload; the same search as the kernel's scripts/extract-vmlinux), so that QEMU can
// boot it through its PVH entry.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [image, out] = process.argv.slice(2);
const data = readFileSync(image);
const formats = [
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), ['zstd', '-dcq']],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), ['xz', '-dcq']],
  [Buffer.from([0x1f, 0x8b, 0x08]), ['gzip', '-dcq']],
];
for (const [magic, [tool, ...args]] of formats) {
  for (let at = data.indexOf(magic); at !== -1; at = data.indexOf(magic, at + 1)) {
    const r = spawnSync(tool, args, { input: data.subarray(at), maxBuffer: 1 << 30 });
    if (r.stdout && r.stdout.subarray(0, 4).toString('latin1') === '\x7fELF') {
      writeFileSync(out, r.stdout);
      process.exit(0);
    }
  }
}
console.error(`extract-vmlinux: no compressed ELF kernel found in ${image}`);
process.exit(1);
