// The Node side of `npm run test:valgrind`: a short spawn/kill/await loop through the public API,
// run under valgrind memcheck by test/sanitize/valgrind.js. Under valgrind 3.19 no backend can
// work (it refuses pidfd_open and clone3, and runs a CLONE_VM child as a copy), so support()
// says none and each spawn() must fail with ENOSYS: that still takes every spawn plan through the
// addon's marshalling (strings, stdio triples, ids) and back as a failure object. Where a backend
// works (a newer valgrind), the loop spawns, kills and awaits for real.
//
//   node test/sanitize/valgrind-node.mjs [ITERATIONS]

import { spawn, support } from '../../dist/index.js';

const iterations = Number(process.argv[2] ?? 100);
const { backend, reason } = support();
console.log(`backend: ${backend} (${reason})`);

let spawned = 0;
let refused = 0;
for (let i = 0; i < iterations; i++) {
  const stdio = i % 2 === 0 ? ['ignore', 'pipe', 'inherit'] : ['pipe', 'ignore', 'ignore', 'pipe'];
  const env = { PATH: '/usr/bin:/bin', PIDFD_ITERATION: String(i), EMPTY: '' };
  let sub;
  try {
    sub = spawn('sleep', ['30', 'é', ''], { stdio, env, cwd: '/', killOnParentExit: true });
  } catch (error) {
    if (backend !== null || error.code !== 'ENOSYS') throw error;
    refused++;
    continue;
  }
  sub.kill('SIGKILL');
  for (const stream of sub.stdio) stream?.destroy();
  const status = await sub.exited;
  if (status.signal !== 'SIGKILL') throw new Error(`iteration ${i}: ${JSON.stringify(status)}`);
  spawned++;
  try {
    spawn('/nonexistent/program', [], { stdio: 'ignore' });
    throw new Error('a missing program was spawned');
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
}
console.log(
  `valgrind-node: ${iterations} iterations, ${spawned} spawned and killed, ${refused} refused (ENOSYS)`,
);
