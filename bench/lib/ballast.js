// Resident parent memory for the memory sweep: ArrayBuffers with every page touched.

const GiB = 2 ** 30;

/** Allocates gib GiB in 1 GiB ArrayBuffers (fractions allowed) and touches every page. */
export function allocateTouched(gib) {
  const buffers = [];
  let left = Math.round(gib * GiB);
  while (left > 0) {
    const size = Math.min(left, GiB);
    const buffer = new ArrayBuffer(size);
    new Uint8Array(buffer).fill(1); // calloc'ed pages are not resident until written
    buffers.push(buffer);
    left -= size;
  }
  return buffers;
}

/** MemAvailable from /proc/meminfo, in GiB. */
export async function availableGiB() {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile('/proc/meminfo', 'utf8');
  const kib = Number(/MemAvailable:\s+(\d+)/.exec(text)?.[1] ?? 0);
  return kib / 2 ** 20;
}
