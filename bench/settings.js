// How much work each scenario does, in the full run and in the quick one (about a minute).

// The sequential and in-flight scenarios run each contender in fresh workers of its own, one per
// round (lib/apart.js): `warmup` untimed spawns, `cold` timed ones, untimed ones until `settle` in
// all, then `warm` timed ones.
const spawnContenders = ['pidfd', 'pidfd/child_process', 'child_process', 'execa', 'nano-spawn', 'tinyexec', 'C posix_spawn', 'C clone3'];
const inflightContenders = ['pidfd', 'child_process', 'execa', 'nano-spawn', 'tinyexec', 'C posix_spawn', 'C clone3'];

export const full = {
  sequential: { rounds: 6, warmup: 20, cold: 300, settle: 2000, warm: 300, contenders: spawnContenders },
  inflight: { rounds: 6, inflight: 64, warmup: 64, cold: 384, settle: 2000, warm: 640, contenders: inflightContenders },
  // Spawns per contender and level; the forking contenders (libuv fork: child_process, execa,
  // nano-spawn, tinyexec) get fewer at high memory, where each spawn costs up to ~0.3 s.
  memory: { levels: [0, 1, 4, 8], nFast: 300, nSlow: { 0: 300, 1: 100, 4: 40, 8: 30 }, rounds: 10 },
  // Exits all at once, then one by one (child i exits i × gapUs after the release).
  reaping: {
    ks: [250, 1000, 2000, 4000],
    rounds: 3,
    gapUs: 1000,
    contenders: ['pidfd', 'child_process', 'execa', 'C pidfd+epoll'],
  },
  footprint: { k: 1000, repeats: 3, contenders: ['pidfd', 'child_process', 'execa', 'nano-spawn', 'tinyexec'] },
  // A per-run cgroup's cost per spawn; killing a tree of (2 × groups + 1) × (per + 1) processes.
  trees: { n: 1000, rounds: 10, groups: 5, per: 99, killRounds: 3 },
  // pidfd/child_process against Node's child_process: operations per contender; execFileSync with
  // the parent's memory at each level (Node's forks: fewer calls at 4 GiB); live ChildProcesses.
  compat: {
    n: { spawnExit: 1000, spawnClose: 1000, execFile: 1000, execFileSync: 1000, forkRoundTrip: 100 },
    rounds: 10,
    memory: { levels: [0, 4], n: { 'pidfd/child_process': 300, child_process: { 0: 300, 4: 30 } }, rounds: 5 },
    footprint: { k: 1000, repeats: 3 },
  },
  // MiB through a child's stdout and through its stdin: socketpair against kernel pipe.
  'compat-stdio': { mib: 1024, rounds: 5 },
  // run(): runs of /bin/true; MiB captured and piped (1 GiB); running commands held at once.
  'run-rate': { n: 1000, rounds: 10 },
  'run-capture': { mib: 1024, rounds: 5 },
  // One stdout to a capture and a file at once (`stdout: ['pipe', { file }]`), against execa's.
  'run-tee': { mib: 1024, rounds: 5 },
  'run-pipeline': { mib: 1024, rounds: 5 },
  'run-footprint': { k: 500, repeats: 3, contenders: ['pidfd run', 'execa', 'nano-spawn', 'tinyexec', 'child_process.execFile'] },
  // `node -e 0` with and without `--import pidfd/register`: pairs, alternating which goes first.
  'register-startup': { n: 20, warmup: 3 },
  // runSync('/bin/true') against execaSync: calls per contender with a small heap, then with 4 GiB
  // resident (execaSync forks: fewer calls there).
  'run-sync': { n: 1000, rounds: 10, levels: [{ gib: 4, n: { 'pidfd runSync': 500, 'pidfd runSync, tree: false': 500, execaSync: 100 } }] },
};

export const quick = {
  sequential: { rounds: 3, warmup: 20, cold: 100, settle: 400, warm: 100, contenders: spawnContenders },
  inflight: { rounds: 2, inflight: 64, warmup: 64, cold: 192, settle: 400, warm: 192, contenders: inflightContenders },
  // Touching memory is slow on a VM (about 0.35 GiB/s here, for the worker and the C server
  // each): the quick run stops at 1 GiB.
  memory: { levels: [0, 1], nFast: 60, nSlow: { 0: 60, 1: 10 }, rounds: 2 },
  reaping: { ks: [250, 1000], rounds: 1, gapUs: 1000, contenders: ['pidfd', 'child_process', 'C pidfd+epoll'] },
  footprint: { k: 300, repeats: 1, contenders: ['pidfd', 'child_process'] },
  trees: { n: 200, rounds: 2, groups: 2, per: 49, killRounds: 1 },
  compat: {
    n: { spawnExit: 200, spawnClose: 200, execFile: 200, execFileSync: 200, forkRoundTrip: 20 },
    rounds: 4,
    memory: { levels: [0, 1], n: { 'pidfd/child_process': 60, child_process: { 0: 60, 1: 15 } }, rounds: 2 },
    footprint: { k: 300, repeats: 1 },
  },
  'compat-stdio': { mib: 256, rounds: 2 },
  'run-rate': { n: 200, rounds: 2 },
  'run-capture': { mib: 256, rounds: 2 },
  'run-tee': { mib: 256, rounds: 2 },
  'run-pipeline': { mib: 256, rounds: 2 },
  'run-footprint': { k: 100, repeats: 1, contenders: ['pidfd run', 'execa'] },
  'register-startup': { n: 20, warmup: 2 },
  'run-sync': { n: 200, rounds: 2, levels: [{ gib: 4, n: { 'pidfd runSync': 200, 'pidfd runSync, tree: false': 200, execaSync: 30 } }] },
};

/** Memory a level needs besides its ballast (Node, the C server's copy is counted apart), GiB. */
export const MEMORY_MARGIN_GIB = 1.5;
